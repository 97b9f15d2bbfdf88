import { ApiProperty } from '@nestjs/swagger';

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
