import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { PublisherAccessService } from '@berth/accounts';
import {
  CheckoutService,
  CheckoutState,
  FulfilmentService,
  PAYMENT_PROVIDER,
  PaymentProvider,
  CommerceErrors,
} from '@berth/commerce';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { licenseCommands } from '@berth/licensing';
import type { Request } from 'express';
import { ClientLimits } from './client-limits';
import { ErrorResponseDto } from './common.dto';
import { CheckoutStateDto, StartCheckoutDto, StartedCheckoutDto } from './commerce.dto';
import { NoStore } from './no-store';
import { readRawBody } from './upload-body';
import { HttpErrors } from './http-errors';

const WEBHOOK_MAX_BYTES = 1024 * 1024;

/** The exact command a buyer runs; shell-safe because every part is from our own alphabet. */
export function helmInstructions(config: AppConfig, state: CheckoutState) {
  if (!state.license) return undefined;
  const repoUrl = `${config.publicUrl}/helm/${state.publisherSlug}`;
  return {
    repoUrl,
    username: state.license.id,
    addCommand: `helm repo add ${state.publisherSlug} ${repoUrl} --username ${state.license.id} --password ${state.license.key}`,
  };
}

function registryInstructions(
  config: AppConfig,
  publisher: string,
  chart: string,
  license: { id: string; key: string },
) {
  const c = licenseCommands({
    publicUrl: config.publicUrl,
    publisher,
    chart,
    licenseId: license.id,
    key: license.key,
  });
  return {
    server: c.registryServer,
    ociInstallCommand: c.ociInstallCommand,
    pullSecretCommand: c.pullSecretCommand,
  };
}

export function checkoutStateDto(config: AppConfig, state: CheckoutState): CheckoutStateDto {
  return {
    status: state.status,
    ...(state.license
      ? {
          license: {
            id: state.license.id,
            key: state.license.key,
            versionRange: state.license.versionRange,
            updatesUntil: state.license.updatesUntil?.toISOString() ?? null,
          },
          helm: helmInstructions(config, state),
          registry: registryInstructions(config, state.publisherSlug, state.chartName, state.license),
        }
      : {}),
  };
}

@ApiTags('buying')
@Controller('v1')
export class CheckoutController {
  constructor(
    private readonly checkout: CheckoutService,
    private readonly fulfilment: FulfilmentService,
    private readonly publishers: PublisherAccessService,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limits: ClientLimits,
  ) {}

  @Post('checkout')
  @NoStore()
  @ApiOperation({
    summary: 'Start buying a paid chart',
    description: 'Answers the hosted payment page to send the buyer to.',
  })
  @ApiResponse({ status: 201, type: StartedCheckoutDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed, chart_is_free' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'chart_not_for_sale (unknown, draft)' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'too_many_checkouts (Retry-After)' })
  async start(@Body() dto: StartCheckoutDto, @Req() req: Request): Promise<StartedCheckoutDto> {
    await this.limits.consume('checkout', req);
    const publisher = await this.publishers.findBySlug(dto.publisher);
    if (!publisher) throw CommerceErrors.ChartNotForSale('No such chart for sale.');
    return this.checkout.start(publisher, dto.chart, dto.email);
  }

  @Get('checkout/:sessionId')
  @NoStore()
  @ApiOperation({
    summary: 'The state of a checkout; once paid, the license key and the helm command',
    description: "The session id is the buyer's secret.",
  })
  @ApiResponse({ status: 200, type: CheckoutStateDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'checkout_not_found' })
  async state(@Param('sessionId') sessionId: string): Promise<CheckoutStateDto> {
    return checkoutStateDto(this.config, await this.checkout.state(sessionId));
  }

  @Post('webhooks/stripe')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Stripe webhook endpoint',
    description:
      'Raw body, Stripe-Signature verified (5-minute tolerance). Duplicates are no-ops; unknown types are acknowledged and ignored.',
  })
  @ApiResponse({
    status: 200,
    schema: { type: 'object', properties: { received: { type: 'boolean' }, outcome: { type: 'string' } } },
  })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'webhook_signature_missing, webhook_signature_invalid, webhook_payload_mismatch',
  })
  @ApiResponse({ status: 413, type: ErrorResponseDto, description: 'payload_too_large' })
  async stripeWebhook(@Req() req: Request): Promise<{ received: true; outcome: string }> {
    // Stripe's events are a few kilobytes; the cap only stops a flood before the signature check.
    const raw = await readRawBody(req, WEBHOOK_MAX_BYTES, () =>
      HttpErrors.PayloadTooLarge(WEBHOOK_MAX_BYTES),
    );
    const event = this.provider.parseWebhook(raw, req.headers['stripe-signature'] as string | undefined);
    const outcome = await this.fulfilment.handle(this.provider.name, event);
    return { received: true, outcome };
  }
}
