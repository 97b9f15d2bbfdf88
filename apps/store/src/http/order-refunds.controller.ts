import { Controller, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { OrderRefunds, RefundOutcome } from '@berth/commerce';
import type { Response } from 'express';
import { Audited, param } from './audited';
import { ErrorResponseDto } from './common.dto';
import { Principal, PublisherRoute } from './publisher-auth.guard';

export class RefundDto {
  @ApiProperty({
    enum: ['refunded', 'refund_requested'],
    description:
      '`refunded`: done (a local order; the license is revoked). `refund_requested`: Stripe has the refund; ' +
      'the order becomes refunded and the license is revoked when its charge.refunded event arrives.',
  })
  status: RefundOutcome;
}

@ApiTags('orders')
@Controller('v1/publishers/:slug/orders/:id/refund')
export class OrderRefundsController {
  constructor(private readonly refunds: OrderRefunds) {}

  @Post()
  @PublisherRoute('orders:refund')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Refund an order in full',
    description:
      'Owner, or API token with orders:refund. 200 when done at once (local payments), 202 when Stripe ' +
      'has the refund (idempotent per order). Only a paid order: a refunded, disputed, pending, failed or ' +
      'expired one is 409 order_not_refundable.',
  })
  @ApiResponse({ status: 200, type: RefundDto })
  @ApiResponse({ status: 202, type: RefundDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'order_not_found' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'order_not_refundable' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'refund_failed' })
  @Audited('order_refunded', param('id'))
  async refund(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RefundDto> {
    const status = await this.refunds.refund(publisher.id, id);
    if (status === 'refund_requested') res.status(202);
    return { status };
  }
}
