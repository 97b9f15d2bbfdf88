/** Stable error codes the HTTP edge itself answers with (API surface: never rename). */
export enum HttpErrorCode {
  TooManyAuthFailures = 'too_many_auth_failures',
  TooManySignups = 'too_many_signups',
  TooManyCheckouts = 'too_many_checkouts',
}
