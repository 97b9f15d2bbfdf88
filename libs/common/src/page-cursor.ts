import type { SelectQueryBuilder } from 'typeorm';
import { CommonErrors } from './errors';

/** Page size of cursor-paged lists: `limit` defaults to this and is capped at PAGE_LIMIT_MAX. */
export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 200;

/**
 * The filters every publisher list takes (orders, licenses); each optional, all combined with AND. `from`
 * and `to` bound the list's own time (created, issued): at or after, and before.
 */
export interface ListFilter {
  chart?: string;
  /** Exact buyer e-mail (compared lowercased, as stored). */
  email?: string;
  from?: Date;
  to?: Date;
  /** From a previous page's nextCursor. */
  cursor?: string;
  limit?: number;
}

/**
 * A position in a list ordered newest first with the id as tie-break: the row's timestamp exactly as
 * Postgres stores it (microseconds, UTC) and its id. Opaque to clients (base64url); a cursor the store
 * did not make is refused with 400 `cursor_invalid`, never passed on to SQL unchecked.
 */
export interface PageCursor {
  /** ISO 8601 UTC with microseconds, e.g. 2026-12-02T02:40:59.123456Z. */
  at: string;
  id: string;
}

const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** SQL that renders a timestamptz column the way a cursor carries it. */
export const cursorTimestampSql = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeCursor(c: PageCursor): string {
  return Buffer.from(`${c.at}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): PageCursor {
  const text = cursor.length <= 128 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const [at, id, ...rest] = text.split('|');
  if (rest.length || !at || !id || !AT.test(at) || !UUID.test(id) || Number.isNaN(Date.parse(at))) {
    throw CommonErrors.CursorInvalid();
  }
  return { at, id };
}

/**
 * Runs `qb` (its filters already applied) as one keyset page, newest `timeColumn` first with the id as
 * tie-break: the cursor is the last row's exact position, so rows added while a client walks the pages
 * appear before its first page and never shift the rest.
 */
export async function keysetPage<T extends { id: string }>(
  qb: SelectQueryBuilder<T>,
  timeColumn: string,
  page: { cursor?: string; limit?: number },
): Promise<{ rows: T[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(page.limit ?? PAGE_LIMIT_DEFAULT, 1), PAGE_LIMIT_MAX);
  const alias = qb.alias;
  const column = `${alias}.${timeColumn}`;
  qb.addSelect(cursorTimestampSql(column), `${alias}_cursor_at`);
  if (page.cursor) {
    const c = decodeCursor(page.cursor);
    qb.andWhere(`(${column}, ${alias}.id) < (CAST(:at AS timestamptz), CAST(:id AS uuid))`, c);
  }
  const { entities, raw } = await qb
    .orderBy(column, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .limit(limit + 1)
    .getRawAndEntities();
  const rows = entities.slice(0, limit);
  const last = rows.at(-1);
  const lastAt = last
    ? (raw as Array<Record<string, string>>).find((r) => r[`${alias}_id`] === last.id)?.[`${alias}_cursor_at`]
    : undefined;
  return {
    rows,
    nextCursor: entities.length > limit && last && lastAt ? encodeCursor({ at: lastAt, id: last.id }) : null,
  };
}
