import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { MailOutbox } from './mail-outbox';
import { MailSender } from './mail-sender';
import { DirectoryMailTransport, MAIL_TRANSPORT, MailTransport, SmtpMailTransport } from './mail-transport';

@Global()
@Module({
  providers: [
    {
      provide: MAIL_TRANSPORT,
      inject: [APP_CONFIG],
      useFactory: ({ mail }: AppConfig): MailTransport =>
        mail.smtpUrl
          ? new SmtpMailTransport(mail.smtpUrl, mail.from)
          : new DirectoryMailTransport(mail.outboxDir, mail.from),
    },
    MailOutbox,
    MailSender,
  ],
  exports: [MailOutbox, MailSender],
})
export class MailModule {}
