import { DomainError, ErrorKind } from '@berth/common';

/**
 * Awaits `work` (or calls it), expects a DomainError with `code` and `kind`, and checks the message is a short
 * sentence that does not echo any of `mustNotContain` (hostile input must never be reflected back).
 */
export async function expectDomainError(
  work: Promise<unknown> | (() => unknown),
  code: string,
  kind: ErrorKind = ErrorKind.Invalid,
  mustNotContain: string[] = [],
): Promise<DomainError> {
  let error: unknown;
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(DomainError);
  const e = error as DomainError;
  expect({ code: e.code, kind: e.kind }).toEqual({ code, kind });
  expect(e.message).toMatch(/^[A-Za-z].{10,200}\.$/s);
  expect([...e.message].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
  for (const s of mustNotContain) expect(e.message).not.toContain(s);
  return e;
}
