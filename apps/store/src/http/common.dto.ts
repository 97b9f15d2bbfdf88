import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class ErrorDetailDto {
  @ApiProperty({ example: 'chart_version_exists', description: 'Stable snake_case code to switch on.' })
  code: string;
  @ApiProperty({ example: 'superdb-1.2.0.tgz already exists; chart versions are immutable.' })
  message: string;
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetailDto }) error: ErrorDetailDto;
}

/** ChartMuseum's error shape, plus our stable code. */
export class ChartMuseumErrorDto {
  @ApiProperty({ example: 'file already exists' }) error: string;
  @ApiProperty({ example: 'chart_version_exists' }) code: string;
}

/** The page size of a cursor-paged list (1-200, default 50). */
export class PageLimitQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}
