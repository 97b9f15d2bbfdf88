/**
 * The rows a raw `UPDATE … RETURNING` (or DELETE) gave back. TypeORM's postgres driver answers those
 * with `[rows, count]` and a SELECT with the rows alone; callers should not each unpick that.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (!Array.isArray(result)) return [];
  return (Array.isArray(result[0]) ? result[0] : result) as T[];
}
