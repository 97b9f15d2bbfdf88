import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { OrdersService } from '@berth/commerce';
import type { Response } from 'express';
import { OrderFilterQueryDto, OrderTotalsListDto } from './commerce.dto';
import { ErrorResponseDto } from './common.dto';
import { listDates } from './list-dates';
import { NoStore } from './no-store';
import { streamOrdersCsv } from './orders-csv-stream';
import { Principal, PublisherRoute } from './publisher-auth.guard';

/** What a publisher's books need beyond the order list: the totals and the whole list as CSV. */
@ApiTags('orders')
@Controller('v1/publishers/:slug/orders')
export class OrderReportsController {
  constructor(private readonly orders: OrdersService) {}

  @Get('totals')
  @PublisherRoute('orders:read')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Gross, refunded, net and open disputes per currency over the filtered orders',
    description: 'Owner, or API token with orders:read. The same filters as the order list, without paging.',
  })
  @ApiResponse({ status: 200, type: OrderTotalsListDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed' })
  async totals(
    @Principal() { publisher }: PublisherPrincipal,
    @Query() q: OrderFilterQueryDto,
  ): Promise<OrderTotalsListDto> {
    return { totals: await this.orders.totals(publisher.id, { ...q, ...listDates(q) }) };
  }

  @Get('export.csv')
  @PublisherRoute('orders:read')
  @ApiBearerAuth()
  @ApiProduces('text/csv')
  @ApiOperation({
    summary: 'Every filtered order as CSV, streamed',
    description:
      'Owner, or API token with orders:read. The same filters as the order list; newest first. Columns: ' +
      'order_id, created_at, paid_at, chart, buyer_email, status, currency, amount and refunded (decimal), ' +
      'amount_minor, refunded_minor, provider. A cell starting with = + - @, a tab or a carriage return ' +
      "is prefixed with ' so that a spreadsheet shows it as text.",
  })
  @ApiResponse({ status: 200, description: 'text/csv; charset=utf-8, as an attachment' })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed' })
  async exportCsv(
    @Principal() { publisher }: PublisherPrincipal,
    @Query() q: OrderFilterQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    await streamOrdersCsv(res, this.orders, publisher, { ...q, ...listDates(q) });
  }
}
