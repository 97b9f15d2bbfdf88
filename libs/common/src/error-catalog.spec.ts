import { DomainError, ErrorKind } from './domain-error';
import { defineErrors, sentence } from './error-catalog';

enum DemoCode {
  Exists = 'demo_exists',
  Busy = 'demo_busy',
  Throttled = 'demo_throttled',
  Bad = 'demo_bad',
}

const DemoErrors = defineErrors(DemoCode, {
  Exists: {
    kind: ErrorKind.Conflict,
    message: (name: string, version: string) => `${name}-${version} exists.`,
  },
  Busy: { kind: ErrorKind.Unavailable, message: 'Busy; retry shortly.', retryAfterSeconds: 2 },
  Throttled: {
    kind: ErrorKind.RateLimited,
    message: (_wait: number) => 'Too many tries.',
    retryAfterSeconds: (wait: number) => wait,
  },
  Bad: { kind: ErrorKind.Invalid, message: sentence },
});

describe('defineErrors', () => {
  it('gives each code a factory that builds its DomainError with the declared kind and message', () => {
    const e = DemoErrors.Exists('superdb', '1.2.0');
    expect(e).toBeInstanceOf(DomainError);
    expect([e.kind, e.code, e.message, e.details]).toEqual([
      ErrorKind.Conflict,
      'demo_exists',
      'superdb-1.2.0 exists.',
      {},
    ]);
    expect(DemoErrors.Bad('Say which.').message).toBe('Say which.');
  });

  it('carries a fixed or per-call Retry-After', () => {
    expect(DemoErrors.Busy().details).toEqual({ retryAfterSeconds: 2 });
    expect(DemoErrors.Throttled(17).details).toEqual({ retryAfterSeconds: 17 });
  });
});
