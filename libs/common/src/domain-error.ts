/**
 * The kinds of failure a domain service can report. The HTTP edge maps each kind to one status code,
 * so libraries never talk HTTP and every code keeps the same status everywhere.
 */
export enum ErrorKind {
  Invalid = 'invalid',
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  TooLarge = 'too_large',
  RateLimited = 'rate_limited',
  /** The client sent its request too slowly (408). */
  Timeout = 'timeout',
  Unavailable = 'unavailable',
  /** A media type the endpoint does not take (415). */
  Unsupported = 'unsupported',
  /** A byte range or upload offset that does not fit what is stored (416). */
  RangeNotSatisfiable = 'range_not_satisfiable',
}

/**
 * A failure the caller can act on. `code` is stable snake_case API surface (clients switch on it);
 * `message` is a human sentence that must never carry secrets, SQL, paths or bucket names.
 */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
