import { PageLimitQueryDto } from './common.dto';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

export class CatalogQueryDto {
  @ApiPropertyOptional({ description: 'Words in the name, description or keywords.', maxLength: 100 })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  q?: string;

  @ApiPropertyOptional({ description: 'Publisher slug.' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  publisher?: string;

  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_000)
  page?: number;
}

export class MoneyDto {
  @ApiProperty({ description: 'Integer minor units.' }) amount: number;
  @ApiProperty({ example: 'usd' }) currency: string;
}

export class PolicyDto {
  @ApiProperty({ enum: ['all', 'major', 'minor', 'window'] }) kind: string;
  @ApiPropertyOptional() months?: number;
}

export class CatalogItemDto {
  @ApiProperty() publisher: string;
  @ApiProperty() name: string;
  @ApiPropertyOptional({ type: String, nullable: true }) description: string | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description:
      "The chart's icon URL when it is https; anything else (http:, javascript:, data:, ...) is null.",
  })
  icon: string | null;
  @ApiProperty({ type: [String] }) keywords: string[];
  @ApiProperty({ type: MoneyDto }) price: MoneyDto;
  @ApiProperty({ type: PolicyDto }) updatePolicy: PolicyDto;
  @ApiPropertyOptional({ type: String, nullable: true }) latestVersion: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) appVersion: string | null;
  @ApiProperty({ description: 'The Helm repository URL of the publisher.' }) repoUrl: string;
}

export class CatalogPageDto {
  @ApiProperty({ type: [CatalogItemDto] }) items: CatalogItemDto[];
  @ApiProperty() page: number;
  @ApiProperty() pageSize: number;
  @ApiProperty() total: number;
}

export class CatalogVersionDto {
  @ApiProperty() version: string;
  @ApiPropertyOptional({ type: String, nullable: true }) appVersion: string | null;
  @ApiProperty({ format: 'date-time' }) created: string;
  @ApiProperty() digest: string;
}

export class CatalogDetailDto extends CatalogItemDto {
  @ApiProperty({ type: [CatalogVersionDto] }) versions: CatalogVersionDto[];
  @ApiPropertyOptional({ type: String, nullable: true }) readme: string | null;
}

export class StartCheckoutDto {
  @ApiProperty({ example: 'acme' })
  @IsString()
  @MaxLength(40)
  publisher: string;

  @ApiProperty({ example: 'superdb' })
  @IsString()
  @MaxLength(63)
  chart: string;

  @ApiProperty({ example: 'buyer@example.com' })
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(320)
  email: string;
}

export class StartedCheckoutDto {
  @ApiProperty({ format: 'uuid' }) orderId: string;
  @ApiProperty({ description: "The buyer's secret: it reads the license on the success page." })
  sessionId: string;
  @ApiProperty() checkoutUrl: string;
}

export class IssuedLicenseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'berth_lic_…: the Helm repository password.' }) key: string;
  @ApiProperty({ example: '>=1.0.0 <2.0.0-0' }) versionRange: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) updatesUntil: string | null;
}

export class HelmInstructionsDto {
  @ApiProperty() repoUrl: string;
  @ApiProperty({ description: 'The license id.' }) username: string;
  @ApiProperty() addCommand: string;
}

export class RegistryInstructionsDto {
  @ApiProperty({ description: '<host>/<publisher>: the server a pull secret names.' }) server: string;
  @ApiProperty({ description: 'helm registry login and helm install oci://…' }) ociInstallCommand: string;
  @ApiProperty({ description: "kubectl create secret docker-registry … for the chart's images." })
  pullSecretCommand: string;
}

export class CheckoutStateDto {
  @ApiProperty({ enum: ['pending', 'paid', 'failed', 'expired', 'refunded', 'disputed'] }) status: string;
  @ApiPropertyOptional({ type: IssuedLicenseDto }) license?: IssuedLicenseDto;
  @ApiPropertyOptional({ type: HelmInstructionsDto }) helm?: HelmInstructionsDto;
  @ApiPropertyOptional({ type: RegistryInstructionsDto }) registry?: RegistryInstructionsDto;
}

export class VerifyLicenseDto {
  @ApiProperty({ description: 'The license key (berth_lic_…).' })
  @IsString()
  @MaxLength(8192)
  key: string;

  @ApiPropertyOptional({
    description:
      'Also check that the key is for this publisher (slug). Required with `chart`: chart names are only unique per publisher, so a chart name alone would accept a key another publisher issued for a chart of the same name.',
    example: 'acme',
  })
  @ValidateIf((o: VerifyLicenseDto) => o.publisher !== undefined || o.chart !== undefined)
  @IsDefined({ message: 'publisher (the publisher slug) is required when chart is given' })
  @IsString()
  @MaxLength(40)
  @Matches(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, { message: 'publisher must be a publisher slug' })
  publisher?: string;

  @ApiPropertyOptional({
    description: 'Also check that the key is for this chart of `publisher` (then required).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  chart?: string;

  @ApiPropertyOptional({
    description: 'Also check that the key covers this version (and, with chart, that it exists).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  version?: string;
}

export class LicenseSummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() publisher: string;
  @ApiProperty() chart: string;
  @ApiProperty() versionRange: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) updatesUntil: string | null;
  @ApiProperty({ enum: ['active', 'suspended', 'revoked'] }) status: string;
}

export class VerifyResultDto {
  @ApiProperty() valid: boolean;
  @ApiPropertyOptional({
    enum: [
      'malformed',
      'unknown_key',
      'bad_signature',
      'wrong_issuer',
      'expired',
      'not_found',
      'revoked',
      'suspended',
      'rotated',
      'wrong_publisher',
      'wrong_chart',
      'version_not_covered',
    ],
  })
  reason?: string;
  @ApiPropertyOptional({ type: LicenseSummaryDto }) license?: LicenseSummaryDto;
}

export class GrantLicenseDto {
  @ApiProperty()
  @IsString()
  @MaxLength(63)
  chart: string;

  @ApiProperty()
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(320)
  email: string;

  @ApiPropertyOptional({
    description: "A semver range; default: the chart's update policy from today.",
    example: '>=1.0.0 <2.0.0-0',
  })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @Matches(/^[0-9A-Za-z.*xX^~<>=|\- +]+$/, { message: 'versionRange must be a semver range' })
  versionRange?: string;
}

export class LicenseDownloadsDto {
  @ApiProperty({ description: '`.tgz` downloads with this license, all time.' }) pulls: number;
  @ApiProperty({ type: String, format: 'date', nullable: true }) firstPullOn: string | null;
  @ApiProperty({ type: String, format: 'date', nullable: true }) lastPullOn: string | null;
  @ApiProperty({ description: 'Distinct clients (address and user agent, kept hashed) in the last 30 days.' })
  distinctClients30d: number;
  @ApiProperty({ description: 'Distinct clients over the current and the previous UTC day.' })
  distinctClientsLastDay: number;
  @ApiProperty({
    description:
      'More than LICENSE_SHARING_THRESHOLD distinct clients over the last day: the key may be shared. Nothing is blocked.',
  })
  sharingSuspected: boolean;
}

export class LicenseDto extends LicenseSummaryDto {
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) orderId: string | null;
  @ApiProperty() buyerEmail: string;
  @ApiProperty({ format: 'date-time' }) issuedAt: string;
  @ApiPropertyOptional({ type: String, nullable: true }) reason: string | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: "The publisher's note to the holder about a revocation.",
  })
  publisherNote: string | null;
}

export class LicenseListItemDto extends LicenseDto {
  @ApiProperty({ type: LicenseDownloadsDto }) downloads: LicenseDownloadsDto;
}

export class GrantedLicenseDto extends LicenseDto {
  @ApiProperty({ description: 'Shown once.' }) key: string;
}

/** Filters and paging shared by the publisher's lists (orders, licenses; the audit log takes the time and paging). */
export class PagedListQueryDto extends PageLimitQueryDto {
  @ApiPropertyOptional({ description: 'Only this chart (name).' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  chart?: string;

  @ApiPropertyOptional({ description: "Only this buyer's e-mail (exact, case-insensitive)." })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created (issued) at or after.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Created (issued) before.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;

  @ApiPropertyOptional({ description: "The previous page's nextCursor (opaque)." })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  cursor?: string;
}

export class RevokeLicenseDto {
  @ApiPropertyOptional({ maxLength: 300, description: 'Shown to the holder as plain text.' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(300)
  note?: string;
}

export const ORDER_STATUSES = ['pending', 'paid', 'failed', 'expired', 'refunded', 'disputed'] as const;
export const LICENSE_STATUSES = ['active', 'suspended', 'revoked'] as const;

export class OrderListQueryDto extends PagedListQueryDto {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES)
  status?: (typeof ORDER_STATUSES)[number];
}

/** The order list's filters without paging: the export and the totals cover every matching order. */
export class OrderFilterQueryDto extends OmitType(OrderListQueryDto, ['cursor', 'limit'] as const) {}

export class OrderTotalsDto {
  @ApiProperty({ description: 'ISO 4217, lower case, as orders store it.' }) currency: string;
  @ApiProperty({ description: 'Orders paid, whatever happened after.' }) paidOrders: number;
  @ApiProperty({ description: 'Paid, in minor units.' }) gross: number;
  @ApiProperty({ description: 'Refunded, in minor units.' }) refunded: number;
  @ApiProperty({ description: 'gross − refunded, in minor units.' }) net: number;
  @ApiProperty({ description: 'Orders with a dispute open now.' }) openDisputes: number;
  @ApiProperty({ description: 'The amount of those orders, in minor units.' }) disputedAmount: number;
}

export class OrderTotalsListDto {
  @ApiProperty({ type: [OrderTotalsDto], description: 'One entry per currency, sorted by currency.' })
  totals: OrderTotalsDto[];
}

export class LicenseListQueryDto extends PagedListQueryDto {
  @ApiPropertyOptional({ enum: LICENSE_STATUSES })
  @IsOptional()
  @IsIn(LICENSE_STATUSES)
  status?: (typeof LICENSE_STATUSES)[number];
}

export class LicensePageDto {
  @ApiProperty({ type: [LicenseListItemDto] }) licenses: LicenseListItemDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Null on the last page.' })
  nextCursor: string | null;
}

export class OrderDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() chart: string;
  @ApiProperty() buyerEmail: string;
  @ApiProperty() amount: number;
  @ApiProperty() currency: string;
  @ApiProperty() provider: string;
  @ApiProperty() status: string;
  @ApiProperty() refundedAmount: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      "PAYOUTS=connect: the platform's fee kept from this sale (the rest is transferred to the publisher).",
  })
  platformFeeAmount: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) paidAt: string | null;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When a pending checkout stops being payable.',
  })
  expiresAt: string | null;
}

export class OrderPageDto {
  @ApiProperty({ type: [OrderDto] }) orders: OrderDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Null on the last page.' })
  nextCursor: string | null;
}
