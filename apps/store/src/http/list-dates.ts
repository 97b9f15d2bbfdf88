/** The list filters' `from` / `to` (validated ISO 8601 strings) as the services take them. */
export const listDates = (q: { from?: string; to?: string }) => ({
  from: q.from ? new Date(q.from) : undefined,
  to: q.to ? new Date(q.to) : undefined,
});
