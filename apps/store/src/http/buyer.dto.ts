import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import { LicenseView } from '@berth/licensing';
import { myLicenseRow } from '@berth/storefront';

export class LoginLinkRequestDto {
  @ApiProperty({ example: 'buyer@example.com' })
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(320)
  email: string;
}

export class LoginLinkAcceptedDto {
  @ApiProperty({ description: 'The same words whether or not the address bought anything.' })
  message: string;
}

export class OpenBuyerSessionDto {
  @ApiProperty({ description: 'The `token` parameter of the e-mailed sign-in link.' })
  @IsString()
  @MaxLength(200)
  token: string;
}

export class BuyerSessionDto {
  @ApiProperty() email: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}

export class BuyerLicenseDto {
  @ApiProperty({ format: 'uuid', description: 'Also the Helm username.' }) id: string;
  @ApiProperty() publisher: string;
  @ApiProperty() chart: string;
  @ApiProperty({ enum: ['active', 'suspended', 'revoked'] }) status: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Why it is not active.' })
  reason: string | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: "The publisher's note about a revocation (plain text).",
  })
  publisherNote: string | null;
  @ApiProperty({ example: '>=1.0.0 <2.0.0-0' }) versionRange: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) updatesUntil: string | null;
  @ApiProperty({ description: 'What the license covers, in words.' }) coverage: string;
  @ApiProperty({ format: 'date-time' }) issuedAt: string;
  @ApiProperty({ description: 'helm repo add …, the key read from standard input.' }) addCommand: string;
  @ApiProperty({
    description: 'helm registry login and helm install oci://…, the key read from standard input.',
  })
  ociInstallCommand: string;
  @ApiProperty({
    description:
      "kubectl create secret docker-registry … for the chart's images, keyed by <host>/<publisher>; the key read from license-key.txt.",
  })
  pullSecretCommand: string;
}

export class BuyerLicenseListDto {
  @ApiProperty({ type: [BuyerLicenseDto] }) licenses: BuyerLicenseDto[];
}

export class BuyerKeyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'berth_lic_…: the Helm repository password.' }) key: string;
}

export class BuyerKeyResponseDto {
  @ApiProperty({ type: BuyerKeyDto }) license: BuyerKeyDto;
}

export function toBuyerLicenseDto(l: LicenseView, publicUrl: string): BuyerLicenseDto {
  const row = myLicenseRow(l, publicUrl);
  return {
    id: l.id,
    publisher: l.publisher,
    chart: l.chart,
    status: l.status,
    reason: l.status === 'active' ? null : l.reason,
    publisherNote: l.status === 'revoked' ? l.publisherNote : null,
    versionRange: l.versionRange,
    updatesUntil: l.updatesUntil?.toISOString() ?? null,
    coverage: row.coverage,
    issuedAt: l.issuedAt.toISOString(),
    addCommand: row.addCommand,
    ociInstallCommand: row.ociInstallCommand,
    pullSecretCommand: row.pullSecretCommand,
  };
}
