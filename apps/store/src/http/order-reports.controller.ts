import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { orderCsvHeader, orderCsvLine, OrdersService } from '@berth/commerce';
import type { Response } from 'express';
import { OrderFilterQueryDto, OrderTotalsListDto } from './commerce.dto';
import { ErrorResponseDto } from './common.dto';
import { listDates } from './list-dates';
import { NoStore } from './no-store';
import { Principal, PublisherRoute } from './publisher-auth.guard';

/** Lines are sent in chunks of about this size: one write per order would be a syscall each. */
const CHUNK_CHARS = 64 * 1024;

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
    const day = new Date().toISOString().slice(0, 10);
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="orders-${publisher.slug}-${day}.csv"`);
    res.setHeader('Cache-Control', 'no-store');
    const orders = this.orders.all(publisher.id, { ...q, ...listDates(q) });
    async function* chunks(): AsyncGenerator<string> {
      let chunk = orderCsvHeader();
      for await (const o of orders) {
        chunk += orderCsvLine(o);
        if (chunk.length >= CHUNK_CHARS) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    }
    // Backpressure from the client paces the reads: one page of orders in memory at a time. A failure
    // after the first bytes can only cut the body short, which a CSV reader sees as a truncated file.
    await pipeline(Readable.from(chunks()), res);
  }
}
