import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsObject,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export class PriceDto {
  @ApiProperty({ description: 'Integer minor units (cents); 0 = free.', example: 4900 })
  @IsInt()
  @Min(0)
  @Max(99_999_999)
  amount: number;

  @ApiProperty({ description: 'ISO 4217 code.', example: 'usd' })
  @IsString()
  @Length(3, 3)
  currency: string;
}

export class UpdatePolicyDto {
  @ApiProperty({ enum: ['all', 'major', 'minor', 'window'] })
  @IsIn(['all', 'major', 'minor', 'window'])
  kind: 'all' | 'major' | 'minor' | 'window';

  @ApiPropertyOptional({
    description: 'Months of updates after purchase; only with kind "window".',
    minimum: 1,
    maximum: 120,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(120)
  months?: number;
}

export class PutListingDto {
  @ApiProperty({ type: PriceDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PriceDto)
  price: PriceDto;

  @ApiProperty({ type: UpdatePolicyDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => UpdatePolicyDto)
  updatePolicy: UpdatePolicyDto;

  @ApiProperty()
  @IsBoolean()
  published: boolean;
}

export class ListingDto {
  @ApiProperty() chart: string;
  @ApiProperty({ type: PriceDto }) price: PriceDto;
  @ApiProperty({ type: UpdatePolicyDto }) updatePolicy: UpdatePolicyDto;
  @ApiProperty() published: boolean;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}
