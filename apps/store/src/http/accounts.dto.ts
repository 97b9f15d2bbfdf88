import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { API_TOKEN_SCOPES, PUBLISHER_SLUG_PATTERN } from '@berth/accounts';
import type { ApiTokenScope } from '@berth/accounts';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsObject,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsNotEmpty,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

export class PublisherInputDto {
  @ApiProperty({
    example: 'acme',
    pattern: PUBLISHER_SLUG_PATTERN.source,
    description: 'Repository name in URLs.',
  })
  @IsString()
  @Matches(PUBLISHER_SLUG_PATTERN, {
    message: 'publisher.slug must be 1-40 lower-case letters, digits or inner dashes',
  })
  slug: string;

  @ApiProperty({ example: 'Acme Inc.', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  displayName: string;
}

export class CreateAccountDto {
  @ApiProperty({ example: 'ops@acme.example', maxLength: 320 })
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(320)
  email: string;

  @ApiProperty({ minLength: 10, maxLength: 256, format: 'password' })
  @IsString()
  @MinLength(10, { message: 'password must be at least 10 characters' })
  @MaxLength(256)
  password: string;

  @ApiProperty({ type: PublisherInputDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PublisherInputDto)
  publisher: PublisherInputDto;
}

export class PublisherDto {
  @ApiProperty() slug: string;
  @ApiProperty() displayName: string;
}

export class AccountDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Absent while the address awaits confirmation (SIGNUP_EMAIL_VERIFICATION=required).',
  })
  id?: string;
  @ApiProperty() email: string;
  @ApiProperty({ type: PublisherDto }) publisher: PublisherDto;
  @ApiProperty({
    enum: ['sent', 'not_required'],
    description: '`sent`: sign-in works once the link mailed to the address is opened.',
  })
  emailVerification: 'sent' | 'not_required';
}

export class CreateSessionDto {
  @ApiProperty({ example: 'ops@acme.example' })
  @IsString()
  @MaxLength(320)
  email: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @MaxLength(256)
  password: string;
}

export class ChangePasswordDto {
  @ApiProperty({ format: 'password', maxLength: 256 })
  @IsString()
  @MaxLength(256)
  currentPassword: string;

  @ApiProperty({ minLength: 10, maxLength: 256, format: 'password' })
  @IsString()
  @MinLength(10, { message: 'newPassword must be at least 10 characters' })
  @MaxLength(256)
  newPassword: string;
}

export class CloseAccountDto {
  @ApiProperty({ format: 'password', maxLength: 256, description: 'The current password, to confirm.' })
  @IsString()
  @MaxLength(256)
  password: string;
}

export class SessionDto {
  @ApiProperty({ description: 'Bearer token for /v1 publisher endpoints.' }) accessToken: string;
  @ApiProperty({ description: 'Seconds until the access token expires.' }) expiresIn: number;
}

export class CreateApiTokenDto {
  @ApiProperty({ example: 'ci', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({ enum: API_TOKEN_SCOPES, isArray: true, example: ['charts:write', 'listings:write'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(API_TOKEN_SCOPES.length)
  @IsIn(API_TOKEN_SCOPES, { each: true })
  scopes: ApiTokenScope[];
}

export class ApiTokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: API_TOKEN_SCOPES, isArray: true }) scopes: ApiTokenScope[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) lastUsedAt: string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
}

export class CreatedApiTokenDto extends ApiTokenDto {
  @ApiProperty({ description: 'The secret, shown once: only its hash is stored.' }) token: string;
}

export class AccountLinkDto {
  @ApiProperty({ description: 'The `token` parameter of the mailed link.' })
  @IsString()
  @MaxLength(200)
  token: string;
}

export class PasswordResetRequestDto {
  @ApiProperty({ example: 'ops@acme.example', maxLength: 320 })
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(320)
  email: string;
}

export class CompletePasswordResetDto extends AccountLinkDto {
  @ApiProperty({ minLength: 10, maxLength: 256, format: 'password' })
  @IsString()
  @MinLength(10, { message: 'newPassword must be at least 10 characters' })
  @MaxLength(256)
  newPassword: string;
}

export class EmailVerifiedDto {
  @ApiProperty() verified: boolean;
}

export class MailedLinkAcceptedDto {
  @ApiProperty({ description: 'The same words whether or not the address has an account.' })
  message: string;
}
