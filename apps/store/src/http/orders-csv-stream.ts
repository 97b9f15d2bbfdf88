import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OrderFilter, orderCsvHeader, orderCsvLine, OrdersService } from '@berth/commerce';
import type { Response } from 'express';

/** Lines are sent in chunks of about this size: one write per order would be a syscall each. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Every order the filter selects as a CSV attachment, streamed: the API's export and the console's
 * "Download CSV" send the same file.
 */
export async function streamOrdersCsv(
  res: Response,
  orders: OrdersService,
  publisher: { id: string; slug: string },
  filter: Omit<OrderFilter, 'cursor' | 'limit'>,
): Promise<void> {
  const day = new Date().toISOString().slice(0, 10);
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="orders-${publisher.slug}-${day}.csv"`);
  res.setHeader('Cache-Control', 'no-store');
  const all = orders.all(publisher.id, filter);
  async function* chunks(): AsyncGenerator<string> {
    let chunk = orderCsvHeader();
    for await (const o of all) {
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
