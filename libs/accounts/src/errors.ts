import { defineErrors, ErrorKind, sentence } from '@berth/common';

/** Stable error codes of the accounts context (API surface: never rename). */
export enum AccountsErrorCode {
  EmailTaken = 'email_taken',
  EmailNotAccepted = 'email_not_accepted',
  PublisherSlugTaken = 'publisher_slug_taken',
  PublisherSlugReserved = 'publisher_slug_reserved',
  InvalidCredentials = 'invalid_credentials',
  PasswordIncorrect = 'password_incorrect',
  LoginThrottled = 'login_throttled',
  AuthRequired = 'auth_required',
  AccessTokenInvalid = 'access_token_invalid',
  ApiTokenInvalid = 'api_token_invalid',
  TokenScopeMissing = 'token_scope_missing',
  PublisherNotFound = 'publisher_not_found',
  NotPublisherOwner = 'not_publisher_owner',
  ApiTokenNotFound = 'api_token_not_found',
  AccountHasPaidLicenses = 'account_has_paid_licenses',
  AccountHasOpenCheckouts = 'account_has_open_checkouts',
  PasswordChecksBusy = 'password_checks_busy',
  EmailNotVerified = 'email_not_verified',
  AccountLinkInvalid = 'account_link_invalid',
  DisplayNameInvalid = 'display_name_invalid',
  LogoUrlInvalid = 'logo_url_invalid',
  LogoTypeUnsupported = 'logo_type_unsupported',
  LogoTooLarge = 'logo_too_large',
}

/** Each accounts code's kind and message, declared once; throw `AccountsErrors.<Code>(…)`. */
export const AccountsErrors = defineErrors(AccountsErrorCode, {
  EmailTaken: { kind: ErrorKind.Conflict, message: 'An account with this e-mail already exists.' },
  PublisherSlugTaken: {
    kind: ErrorKind.Conflict,
    message: (slug: string) => `The publisher name "${slug}" is taken.`,
  },
  // Reserved names and "--" (punycode look-alikes) each say which rule refused the name.
  PublisherSlugReserved: { kind: ErrorKind.Invalid, message: sentence },
  InvalidCredentials: { kind: ErrorKind.Unauthenticated, message: 'The e-mail or password is wrong.' },
  LoginThrottled: {
    kind: ErrorKind.RateLimited,
    message: (_retryAfterSeconds: number) => 'Too many failed logins; try again later.',
    retryAfterSeconds: (retryAfterSeconds: number) => retryAfterSeconds,
  },
  AuthRequired: { kind: ErrorKind.Unauthenticated, message: 'Authentication is required.' },
  AccessTokenInvalid: { kind: ErrorKind.Unauthenticated, message: 'The access token is invalid or expired.' },
  ApiTokenInvalid: { kind: ErrorKind.Unauthenticated, message: 'The API token is invalid or revoked.' },
  TokenScopeMissing: {
    kind: ErrorKind.Forbidden,
    message: (scope: string) => `This API token lacks the "${scope}" scope.`,
  },
  PublisherNotFound: { kind: ErrorKind.NotFound, message: 'No such publisher.' },
  NotPublisherOwner: { kind: ErrorKind.Forbidden, message: 'You do not own this publisher.' },
  ApiTokenNotFound: { kind: ErrorKind.NotFound, message: 'No such API token.' },
  EmailNotAccepted: {
    kind: ErrorKind.Invalid,
    message:
      'The e-mail address must be plain ASCII without quotes (internationalised domains in xn-- form).',
  },
  // 403, not 401: the caller's session is fine (a 401 tells clients to log in again); the e-mail's login
  // throttle counts these, not the access token's failure limit.
  PasswordIncorrect: { kind: ErrorKind.Forbidden, message: 'The password is wrong.' },
  AccountHasPaidLicenses: {
    kind: ErrorKind.Conflict,
    message: (slug: string) =>
      `The publisher "${slug}" has sold licenses still in force; revoke or refund them first.`,
  },
  AccountHasOpenCheckouts: {
    kind: ErrorKind.Conflict,
    message: (slug: string) =>
      `The publisher "${slug}" has checkouts a buyer may still pay; try again once they have expired.`,
  },
  // Only after the right password: nobody learns from it whether an address has an account.
  EmailNotVerified: {
    kind: ErrorKind.Forbidden,
    message:
      'Confirm your e-mail address first: open the link we sent to it. A new one is on its way if the last is older than 5 minutes.',
  },
  AccountLinkInvalid: {
    kind: ErrorKind.Invalid,
    message: 'This link has expired or was already used. Ask for a new one.',
  },
  DisplayNameInvalid: {
    kind: ErrorKind.Invalid,
    message: (max: number) => `The display name must be 1 to ${max} characters, without control characters.`,
  },
  LogoUrlInvalid: {
    kind: ErrorKind.Invalid,
    message: (max: number) => `The logo address must be an https:// URL of at most ${max} characters.`,
  },
  // Told by the bytes, never by a file name or a declared Content-Type: SVG (it can carry script) is refused.
  LogoTypeUnsupported: { kind: ErrorKind.Invalid, message: 'The logo must be a PNG, JPEG or WebP image.' },
  LogoTooLarge: {
    kind: ErrorKind.TooLarge,
    message: (maxBytes: number) => `The logo is larger than the limit of ${maxBytes} bytes.`,
  },
  PasswordChecksBusy: {
    kind: ErrorKind.Unavailable,
    message: 'Too many password checks at once; retry shortly.',
    retryAfterSeconds: 1,
  },
});
