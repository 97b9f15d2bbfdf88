import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataSource } from 'typeorm';
import { bearer, createPublisher, Publisher, publishChart, putListing, statusAndCode } from '../support/api';
import { simpleChart } from '../support/charts';
import { buyerEmail, buyLocally, startCheckout } from '../support/checkout';
import { InProcessStore, startInProcess } from '../support/in-process';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** RFC 4180 as a spreadsheet reads it: quoted cells may hold commas, quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) throw new Error('the CSV does not end with CRLF');
  return rows;
}

interface OrderJson {
  id: string;
  chart: string;
  buyerEmail: string;
  status: string;
  amount: number;
  currency: string;
  refundedAmount: number;
}

describe("a publisher's order totals and CSV export", () => {
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;
  let other: Publisher;
  // Valid addresses whose first character makes a spreadsheet evaluate the cell.
  const hostile = ['=1+2@mail.example', '+cmd@mail.example', '-2+3@mail.example'];

  const get = (path: string, p: Publisher = acme) =>
    fetch(`${store.url}/v1/publishers/${p.slug}${path}`, { headers: bearer(p.apiToken) });
  const listAll = async (query = ''): Promise<OrderJson[]> => {
    const out: OrderJson[] = [];
    let cursor = '';
    do {
      const res = await get(`/orders?limit=200${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { orders: OrderJson[]; nextCursor: string | null };
      out.push(...page.orders);
      cursor = page.nextCursor ?? '';
    } while (cursor);
    return out;
  };

  beforeAll(async () => {
    store = await startInProcess('postgres');
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write', 'orders:read']);
    other = await createPublisher(store.url, 'other', ['charts:write', 'listings:write', 'orders:read']);
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 4900);
    await publishChart(store.url, acme, 'eurodb', await simpleChart('eurodb', '1.0.0'), 0);
    const eur = { price: { amount: 1250, currency: 'eur' }, updatePolicy: { kind: 'all' }, published: true };
    expect((await putListing(store.url, acme.slug, acme.apiToken, 'eurodb', eur)).status).toBe(200);
    await publishChart(store.url, other, 'theirs', await simpleChart('theirs', '1.0.0'), 700);
  }, 60_000);
  afterAll(() => store?.close());

  it('adds up gross, refunded, net and open disputes per currency, with the list filters', async () => {
    const paid = [];
    for (let i = 0; i < 4; i++)
      paid.push(
        await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: buyerEmail('tot') }),
      );
    await buyLocally(store.url, { publisher: 'acme', chart: 'eurodb', email: buyerEmail('eur') });
    await startCheckout(store.url, { publisher: 'acme', chart: 'superdb' }); // pending: not paid, not counted
    await buyLocally(store.url, { publisher: 'other', chart: 'theirs', email: buyerEmail('theirs') });
    // What refunds and disputes leave behind (their flows have their own suites): one refunded in full,
    // one partly, one under dispute.
    const [a, b, c] = (await listAll('&chart=superdb&status=paid')).map((o) => o.id);
    await db.query(`UPDATE "order" SET status = 'refunded', refunded_amount = amount WHERE id = $1`, [a]);
    await db.query(`UPDATE "order" SET refunded_amount = 900 WHERE id = $1`, [b]);
    await db.query(`UPDATE "order" SET status = 'disputed' WHERE id = $1`, [c]);

    const res = await get('/orders/totals');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({
      totals: [
        {
          currency: 'eur',
          paidOrders: 1,
          gross: 1250,
          refunded: 0,
          net: 1250,
          openDisputes: 0,
          disputedAmount: 0,
        },
        {
          currency: 'usd',
          paidOrders: 4,
          gross: 4 * 4900,
          refunded: 4900 + 900,
          net: 4 * 4900 - 5800,
          openDisputes: 1,
          disputedAmount: 4900,
        },
      ],
    });
    const disputed = (await (await get('/orders/totals?status=disputed')).json()) as { totals: unknown[] };
    expect(disputed.totals).toEqual([
      {
        currency: 'usd',
        paidOrders: 1,
        gross: 4900,
        refunded: 0,
        net: 4900,
        openDisputes: 1,
        disputedAmount: 4900,
      },
    ]);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(await (await get(`/orders/totals?from=${future}`)).json()).toEqual({ totals: [] });
    // Another publisher's books are its own.
    const theirs = (await (await get('/orders/totals', other)).json()) as {
      totals: Array<{ gross: number }>;
    };
    expect(theirs.totals.map((t) => t.gross)).toEqual([700]);
    expect(paid).toHaveLength(4);
  });

  it('exports the same orders as the list, as CSV a spreadsheet reads back without running any cell', async () => {
    for (const email of hostile) {
      await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email });
    }
    const res = await get('/orders/export.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="orders-acme-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    const [header, ...rows] = parseCsv(await res.text());
    expect(header).toEqual([
      'order_id',
      'created_at',
      'paid_at',
      'chart',
      'buyer_email',
      'status',
      'currency',
      'amount',
      'refunded',
      'amount_minor',
      'refunded_minor',
      'provider',
    ]);
    const listed = await listAll();
    expect(rows.map((r) => r[0])).toEqual(listed.map((o) => o.id));
    for (const [r, o] of rows.map((r, i) => [r, listed[i]] as const)) {
      expect({ id: r[0], chart: r[3], status: r[5], minor: Number(r[9]), refunded: Number(r[10]) }).toEqual({
        id: o.id,
        chart: o.chart,
        status: o.status,
        minor: o.amount,
        refunded: o.refundedAmount,
      });
      // The e-mail comes back as written, behind a ' when a spreadsheet would have run it.
      expect(r[4]).toBe(/^[=+\-@]/.test(o.buyerEmail) ? `'${o.buyerEmail}` : o.buyerEmail);
      expect(r[7]).toBe((o.amount / 100).toFixed(2));
    }
    for (const email of hostile) expect(rows.some((r) => r[4] === `'${email}`)).toBe(true);
    expect(rows.every((r) => !/^[=+\-@\t\r]/.test(r[4]))).toBe(true);

    const filtered = parseCsv(await (await get('/orders/export.csv?chart=eurodb')).text());
    expect(filtered.slice(1).map((r) => [r[3], r[6], r[7]])).toEqual([['eurodb', 'EUR', '12.50']]);
  });

  it('refuses bad filters and paging parameters, other publishers, and anonymous callers', async () => {
    for (const q of ['status=bogus', 'from=yesterday', 'cursor=abc', 'limit=5', 'chart=' + 'x'.repeat(64)]) {
      expect([q, ...(await statusAndCode(await get(`/orders/export.csv?${q}`)))]).toEqual([
        q,
        400,
        'validation_failed',
      ]);
      expect([q, ...(await statusAndCode(await get(`/orders/totals?${q}`)))]).toEqual([
        q,
        400,
        'validation_failed',
      ]);
    }
    const foreign = await fetch(`${store.url}/v1/publishers/acme/orders/export.csv`, {
      headers: bearer(other.apiToken),
    });
    expect(await statusAndCode(foreign)).toEqual([401, 'api_token_invalid']);
    const anonymous = await fetch(`${store.url}/v1/publishers/acme/orders/totals`);
    expect((await anonymous.json()) as object).toMatchObject({ error: { code: 'auth_required' } });
  });

  it('streams 100,000 orders in flat memory', async () => {
    const big = await createPublisher(store.url, 'bigco', ['charts:write', 'listings:write', 'orders:read']);
    await publishChart(store.url, big, 'bulk', await simpleChart('bulk', '1.0.0'), 500);
    await buyLocally(store.url, { publisher: 'bigco', chart: 'bulk', email: buyerEmail('bulk') });
    // 99,999 more like it, each its own order, one second apart (the checkout flow has its own suites).
    await db.query(
      `INSERT INTO "order" (publisher_id, chart_id, publisher_slug, chart_name, update_policy, update_window_months,
         newest_stable_version, buyer_email, amount, currency, provider, status, refunded_amount, paid_at, created_at)
       SELECT o.publisher_id, o.chart_id, o.publisher_slug, o.chart_name, o.update_policy, o.update_window_months,
         o.newest_stable_version, 'buyer' || i || '@bulk.example', o.amount, o.currency, o.provider, 'paid', 0,
         o.paid_at - i * interval '1 second', o.created_at - i * interval '1 second'
       FROM "order" o, generate_series(1, 99999) i WHERE o.publisher_id = (SELECT id FROM publisher WHERE slug = 'bigco')`,
    );
    // What autovacuum does within a minute of such a load: without statistics the planner expects 11 rows.
    await db.query(`ANALYZE "order"`);
    // The live heap after a full collection, sampled while the export streams: what the server holds, not
    // the garbage V8 has not collected yet.
    const live = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = live();
    let peak = before;
    const started = Date.now();
    // A full collection of this process's heap (every suite of `npm test` runs in it) can take longer than
    // the interval: the next sample waits four times as long as the last took, so collecting never takes
    // more than a fifth of the time and the export keeps its pace.
    let sampler: NodeJS.Timeout;
    const sample = () => {
      const t0 = Date.now();
      peak = Math.max(peak, live());
      // Never past the test's own timeout: a timed-out test never reaches clearTimeout below.
      if (Date.now() - started < 110_000) sampler = setTimeout(sample, Math.max(500, 4 * (Date.now() - t0)));
    };
    sampler = setTimeout(sample, 500);
    const res = await get('/orders/export.csv', big);
    expect(res.status).toBe(200);
    let lines = 0;
    let bytes = 0;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      lines += (decoder.decode(chunk, { stream: true }).match(/\r\n/g) ?? []).length;
    }
    clearTimeout(sampler);
    expect(lines).toBe(100_001);
    // The body is ~15 MB; held whole as strings and order objects it would cost several times that.
    expect(bytes).toBeGreaterThan(14_000_000);
    process.stdout.write(
      `export: ${bytes} bytes in ${Date.now() - started} ms, live heap +${((peak - before) / 1048576).toFixed(1)} MB\n`,
    );
    expect(peak - before).toBeLessThan(12 * 1024 * 1024);
  }, 120_000);
});
