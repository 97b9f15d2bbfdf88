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
  PasswordChecksBusy = 'password_checks_busy',
}
