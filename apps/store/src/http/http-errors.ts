import { defineErrors, ErrorKind, sentence } from '@berth/common';

/**
 * The HTTP edge's own stable error codes (API surface: never rename), each written once here. Libraries
 * declare theirs in their `errors.ts`.
 */
export enum HttpErrorCode {
  ValidationFailed = 'validation_failed',
  /** No route answers this method and path (also what /metrics answers where it is not served). */
  RouteNotFound = 'route_not_found',
  /** A JSON body nests arrays/objects deeper than MAX_JSON_DEPTH. */
  JsonTooDeep = 'json_too_deep',
  /** A route that reads its body raw found it already consumed (it cannot be read twice). */
  BodyAlreadyRead = 'body_already_read',
  /** /metrics asked for without (or with a wrong) METRICS_TOKEN. */
  MetricsTokenRequired = 'metrics_token_required',
  InvalidJson = 'invalid_json',
  BadRequest = 'bad_request',
  PayloadTooLarge = 'payload_too_large',
  UploadTooLarge = 'upload_too_large',
  MultipartInvalid = 'multipart_invalid',
  UploadsBusy = 'uploads_busy',
  OwnerRequired = 'owner_required',
  /** 403: an operator route (`/v1/operator/…`) for an account OPERATOR_EMAILS does not name. */
  OperatorRequired = 'operator_required',
  TooManyAuthFailures = 'too_many_auth_failures',
  TooManySignups = 'too_many_signups',
  TooManyCheckouts = 'too_many_checkouts',
  TooManyLoginLinks = 'too_many_login_links',
  /** A cookie-authenticated change sent from a page of another origin. */
  CrossOriginRefused = 'cross_origin_refused',
  /** A console form's price that is not a plain number with at most the currency's decimals. */
  PriceTextInvalid = 'price_text_invalid',
  /** A console page or action without a live console session cookie. */
  ConsoleSessionRequired = 'console_session_required',
  /** An analytics range that ends before it starts or spans more than a year. */
  DateRangeInvalid = 'date_range_invalid',
  /** 408: the upload body stalled or came in below the minimum rate. */
  UploadTooSlow = 'upload_too_slow',
  /** 429: this publisher already holds its share of the upload slots. */
  PublisherUploadsBusy = 'publisher_uploads_busy',
  ServiceUnavailable = 'service_unavailable',
}

/**
 * Codes for a framework `HttpException` (unknown route, wrong method, …) by status, and the two that
 * have no `ErrorKind` (a 500 and a status nothing else names).
 */
export enum HttpStatusErrorCode {
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  MethodNotAllowed = 'method_not_allowed',
  Conflict = 'conflict',
  UnsupportedMediaType = 'unsupported_media_type',
  RateLimited = 'rate_limited',
  HttpError = 'http_error',
  InternalError = 'internal_error',
}

/** Each edge code's kind and message, declared once; the error filter maps the kind to the status. */
export const HttpErrors = defineErrors(HttpErrorCode, {
  // ValidationPipe's list of field problems: they name fields, never echo values.
  ValidationFailed: { kind: ErrorKind.Invalid, message: (problems: string[]) => problems.join('; ') },
  InvalidJson: { kind: ErrorKind.Invalid, message: 'The request body is not valid JSON.' },
  RouteNotFound: {
    kind: ErrorKind.NotFound,
    message: (method: string, path: string) => `Cannot ${method} ${path}`,
  },
  JsonTooDeep: {
    kind: ErrorKind.Invalid,
    message: (maxDepth: number) => `The JSON body nests more than ${maxDepth} levels of arrays or objects.`,
  },
  BodyAlreadyRead: { kind: ErrorKind.Invalid, message: 'The request body could not be read for this route.' },
  MetricsTokenRequired: {
    kind: ErrorKind.Unauthenticated,
    message: 'Metrics require the metrics bearer token.',
  },
  BadRequest: { kind: ErrorKind.Invalid, message: 'The request body could not be read.' },
  PayloadTooLarge: {
    kind: ErrorKind.TooLarge,
    message: (maxBytes?: number) =>
      maxBytes === undefined
        ? 'The request body is too large.'
        : `The request body is limited to ${maxBytes} bytes.`,
  },
  UploadTooLarge: {
    kind: ErrorKind.TooLarge,
    message: (maxBytes: number) => `The upload is larger than the limit of ${maxBytes} bytes.`,
  },
  MultipartInvalid: { kind: ErrorKind.Invalid, message: 'The multipart body is malformed.' },
  UploadsBusy: {
    kind: ErrorKind.Unavailable,
    message: 'Too many uploads in progress; retry shortly.',
    retryAfterSeconds: 2,
  },
  OwnerRequired: { kind: ErrorKind.Forbidden, message: 'Only the publisher owner, logged in, can do this.' },
  OperatorRequired: { kind: ErrorKind.Forbidden, message: "Only the store's operators can do this." },
  TooManyAuthFailures: {
    kind: ErrorKind.RateLimited,
    message: (_retryAfterSeconds: number) => 'Too many failed authentication attempts; retry later.',
    retryAfterSeconds: (retryAfterSeconds: number) => retryAfterSeconds,
  },
  TooManySignups: {
    kind: ErrorKind.RateLimited,
    message: (_retryAfterSeconds: number) => 'Too many sign-ups from this address; retry later.',
    retryAfterSeconds: (retryAfterSeconds: number) => retryAfterSeconds,
  },
  TooManyCheckouts: {
    kind: ErrorKind.RateLimited,
    message: (_retryAfterSeconds: number) => 'Too many checkouts from this address; retry later.',
    retryAfterSeconds: (retryAfterSeconds: number) => retryAfterSeconds,
  },
  TooManyLoginLinks: {
    kind: ErrorKind.RateLimited,
    message: (_retryAfterSeconds: number) => 'Too many mailed links asked for; retry later.',
    retryAfterSeconds: (retryAfterSeconds: number) => retryAfterSeconds,
  },
  DateRangeInvalid: {
    kind: ErrorKind.Invalid,
    message: (maxDays: number) => `from must be on or before to, and the range at most ${maxDays} days.`,
  },
  CrossOriginRefused: {
    kind: ErrorKind.Forbidden,
    message: 'This request came from a page of another site; open the store and try again there.',
  },
  PriceTextInvalid: {
    kind: ErrorKind.Invalid,
    message: (currency: string) =>
      `Enter the price as a number of ${currency.toUpperCase()}, like 49 or 49.00 (0 for a free chart).`,
  },
  ConsoleSessionRequired: {
    kind: ErrorKind.Unauthenticated,
    message: 'Sign in to the console first (or again: the session ended).',
  },
  UploadTooSlow: { kind: ErrorKind.Timeout, message: sentence },
  PublisherUploadsBusy: {
    kind: ErrorKind.RateLimited,
    message: (maxPerPublisher: number) =>
      `This publisher already has ${maxPerPublisher} uploads in progress; retry shortly.`,
    retryAfterSeconds: 2,
  },
  ServiceUnavailable: {
    kind: ErrorKind.Unavailable,
    message: 'The service is temporarily unavailable; retry shortly.',
    retryAfterSeconds: 5,
  },
});
