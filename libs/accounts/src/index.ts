export { AccountsModule } from './accounts.module';
export { AccountMailService, ACCOUNT_MAIL } from './account-mail.service';
export { ACCOUNTS_ENTITIES } from './entities';
export { AccountsErrorCode, AccountsErrors } from './errors';
export { API_TOKEN_SCOPES, PUBLISHER_SLUG_PATTERN } from './scopes';
export type { ApiTokenScope } from './scopes';
export { AccountRegistrationService } from './account-registration.service';
export type { RegisterAccountInput, RegisteredAccount } from './account-registration.service';
export { SessionService } from './session.service';
export { AccountClosureService } from './account-closure.service';
export { canonicalEmail } from './email';
export { ApiTokenService, API_TOKEN_PREFIX } from './api-token.service';
export type { ApiTokenView, AuthenticatedApiToken } from './api-token.service';
export { PublisherAccessService, credentialFromAuthorization } from './publisher-access.service';
export type { PublisherPrincipal, PublisherRef } from './publisher-access.service';
export { PasswordHasher } from './password-hasher';
export { PublisherProfileService } from './publisher-profile.service';
export type {
  PublisherLogo,
  PublisherProfile,
  PublisherProfileChange,
  StoredLogo,
} from './publisher-profile.service';
export {
  acceptableDisplayName,
  acceptableLogoUrl,
  DISPLAY_NAME_MAX,
  LOGO_CONTENT_TYPES,
  LOGO_MAX_BYTES,
  LOGO_URL_MAX,
  logoExtension,
  sniffLogo,
} from './publisher-logo';
export type { LogoContentType } from './publisher-logo';
export type { PasswordHasherStats } from './password-hasher';
export { UnconfirmedAccountSweeper, UNCONFIRMED_ACCOUNT_DAYS } from './unconfirmed-account.sweeper';
export { ConsoleSessions, CONSOLE_SESSION_HOURS } from './console-sessions';
export type { OpenedConsoleSession } from './console-sessions';
export { Operators } from './operators';
