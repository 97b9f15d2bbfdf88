import { Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { ConnectEvents, ConnectOutcome, PayoutAccounts, PayoutView } from '@berth/payouts';
import type { Request } from 'express';
import { ErrorResponseDto } from './common.dto';
import { HttpErrors } from './http-errors';
import { NoStore } from './no-store';
import { Principal, PublisherRoute } from './publisher-auth.guard';
import { readRawBody } from './upload-body';

const WEBHOOK_MAX_BYTES = 1024 * 1024;

class PayoutFailureDto {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: String, nullable: true }) code: string | null;
  @ApiProperty({ type: String, nullable: true }) message: string | null;
}

export class PayoutStatusDto {
  @ApiProperty({
    enum: ['not_started', 'pending', 'enabled', 'restricted'],
    description:
      '`enabled`: paid charts sell and Stripe pays out. `pending`: onboarding not finished (see currentlyDue). ' +
      '`restricted`: disconnected, or Stripe holds transfers or payouts.',
  })
  status: PayoutView['status'];
  @ApiProperty({ type: String, nullable: true }) accountId: string | null;
  @ApiProperty() chargesEnabled: boolean;
  @ApiProperty() payoutsEnabled: boolean;
  @ApiProperty({
    enum: ['active', 'inactive', 'pending', 'none'],
    description: 'The `transfers` capability.',
  })
  transfers: PayoutView['transfers'];
  @ApiProperty({ type: [String], description: "Stripe's requirements.currently_due." })
  currentlyDue: string[];
  @ApiProperty({ description: 'The publisher disconnected the store from their Stripe account.' })
  deauthorized: boolean;
  @ApiProperty({
    type: PayoutFailureDto,
    nullable: true,
    description: 'The last failed payout, until one succeeds.',
  })
  payoutFailure: PayoutFailureDto | null;
  @ApiProperty({ description: 'Platform fee in basis points of each sale.' }) feeBps: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Fixed platform fee per currency, in its smallest unit.',
  })
  feeFixed: Record<string, number>;
}

export class PayoutLinkDto {
  @ApiProperty({ description: 'Single use; open it at once (Stripe expires it within minutes).' })
  url: string;
}

function statusDto(v: PayoutView): PayoutStatusDto {
  return {
    status: v.status,
    accountId: v.accountId,
    chargesEnabled: v.chargesEnabled,
    payoutsEnabled: v.payoutsEnabled,
    transfers: v.transfers,
    currentlyDue: v.currentlyDue,
    deauthorized: v.deauthorized,
    payoutFailure: v.payoutFailure,
    feeBps: v.fee.bps,
    feeFixed: v.fee.fixed,
  };
}

@ApiTags('payouts')
@Controller('v1/publishers/:slug/payouts')
export class PayoutsController {
  constructor(private readonly payouts: PayoutAccounts) {}

  @Get()
  @PublisherRoute('owner')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({ summary: "The publisher's payout account as Stripe last reported it (PAYOUTS=connect)" })
  @ApiResponse({ status: 200, type: PayoutStatusDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'payouts_not_enabled' })
  async status(@Principal() { publisher }: PublisherPrincipal): Promise<PayoutStatusDto> {
    return statusDto(await this.payouts.view(publisher.id));
  }

  @Post('onboarding')
  @HttpCode(200)
  @PublisherRoute('owner')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Start or continue payout onboarding: a fresh Stripe Account Link every time',
    description: 'Creates the Connect account on first use.',
  })
  @ApiResponse({ status: 200, type: PayoutLinkDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'payouts_not_enabled' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'payout_provider_unavailable' })
  async onboarding(@Principal() { publisher }: PublisherPrincipal): Promise<PayoutLinkDto> {
    return { url: await this.payouts.onboardingLink(publisher) };
  }

  @Post('dashboard')
  @HttpCode(200)
  @PublisherRoute('owner')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({ summary: "A single-use link into the publisher's Stripe Express dashboard" })
  @ApiResponse({ status: 200, type: PayoutLinkDto })
  @ApiResponse({
    status: 404,
    type: ErrorResponseDto,
    description: 'payouts_not_enabled, payout_account_not_found (onboarding not started)',
  })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'payout_provider_unavailable' })
  async dashboard(@Principal() { publisher }: PublisherPrincipal): Promise<PayoutLinkDto> {
    return { url: await this.payouts.dashboardLink(publisher.id) };
  }
}

@ApiTags('payouts')
@Controller('v1/webhooks/stripe-connect')
export class ConnectWebhookController {
  constructor(private readonly events: ConnectEvents) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Stripe Connect webhook endpoint (its own signing secret)',
    description:
      'account.updated and capability.updated re-gate sales, account.application.deauthorized stops them, ' +
      'payout.failed is shown to the publisher. De-duplicated by event id and account; events for an ' +
      'unknown account, test-mode events on a live key and other types are acknowledged and ignored.',
  })
  @ApiResponse({
    status: 200,
    schema: { type: 'object', properties: { received: { type: 'boolean' }, outcome: { type: 'string' } } },
  })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description:
      'connect_webhook_signature_missing, connect_webhook_signature_invalid, connect_webhooks_not_configured',
  })
  @ApiResponse({ status: 413, type: ErrorResponseDto, description: 'payload_too_large' })
  async receive(@Req() req: Request): Promise<{ received: true; outcome: ConnectOutcome }> {
    const raw = await readRawBody(req, WEBHOOK_MAX_BYTES, () =>
      HttpErrors.PayloadTooLarge(WEBHOOK_MAX_BYTES),
    );
    const event = this.events.parse(raw, req.headers['stripe-signature'] as string | undefined);
    return { received: true, outcome: await this.events.handle(event) };
  }
}
