import { Module } from '@nestjs/common';
import { AccessTokens } from './access-tokens';
import { AccountMailService } from './account-mail.service';
import { AccountClosureService } from './account-closure.service';
import { ConsoleSessions } from './console-sessions';
import { AccountRegistrationService } from './account-registration.service';
import { ApiTokenService } from './api-token.service';
import { LoginThrottle } from './login-throttle';
import { Operators } from './operators';
import { PasswordHasher } from './password-hasher';
import { PublisherAccessService } from './publisher-access.service';
import { PublisherProfileService } from './publisher-profile.service';
import { SessionService } from './session.service';
import { UnconfirmedAccountSweeper } from './unconfirmed-account.sweeper';

@Module({
  providers: [
    AccessTokens,
    AccountMailService,
    AccountClosureService,
    AccountRegistrationService,
    ApiTokenService,
    ConsoleSessions,
    LoginThrottle,
    Operators,
    PasswordHasher,
    PublisherAccessService,
    PublisherProfileService,
    SessionService,
    UnconfirmedAccountSweeper,
  ],
  exports: [
    AccountMailService,
    AccountClosureService,
    AccountRegistrationService,
    ApiTokenService,
    ConsoleSessions,
    Operators,
    PasswordHasher,
    PublisherAccessService,
    PublisherProfileService,
    SessionService,
    UnconfirmedAccountSweeper,
  ],
})
export class AccountsModule {}
