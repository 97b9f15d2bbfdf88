import { Logger, Module } from '@nestjs/common';
import { AccountsModule } from '@berth/accounts';
import { AnalyticsModule } from '@berth/analytics';
import { CatalogModule } from '@berth/catalog';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { LicensingModule } from '@berth/licensing';
import { MailModule } from '@berth/mail';
import { PayoutsModule } from '@berth/payouts';
import { CheckoutExpirySweeper } from './checkout-expiry.sweeper';
import { CheckoutService } from './checkout.service';
import { FulfilmentService } from './fulfilment.service';
import { LicenseGrantService } from './license-grant.service';
import { LicenseMail } from './license-mail';
import { LocalPaymentProvider } from './local-provider';
import { OrdersService } from './orders.service';
import { PAYMENT_PROVIDER, PaymentProvider } from './payment-provider';
import { StripePaymentProvider } from './stripe-provider';
import { OrderRefunds } from './order-refunds';
import { CustomerTimeline } from './customer-timeline';
import { LicenseMailResend } from './license-resend';
import { MarketplaceReport } from './marketplace-report';

@Module({
  imports: [AccountsModule, AnalyticsModule, CatalogModule, LicensingModule, MailModule, PayoutsModule],
  providers: [
    {
      provide: PAYMENT_PROVIDER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): PaymentProvider => {
        const p = config.payments;
        if (p.provider === 'stripe')
          return new StripePaymentProvider(p.stripeSecretKey, p.stripeWebhookSecret, p.stripeApiUrl);
        new Logger('Payments').warn(
          "PAYMENTS ARE LOCAL: STRIPE_SECRET_KEY is not set, so checkouts use the store's own pay page and no money moves.",
        );
        return new LocalPaymentProvider(config.publicUrl);
      },
    },
    CheckoutService,
    CheckoutExpirySweeper,
    FulfilmentService,
    LicenseGrantService,
    LicenseMail,
    OrdersService,
    OrderRefunds,
    CustomerTimeline,
    LicenseMailResend,
    MarketplaceReport,
  ],
  exports: [
    CheckoutService,
    CheckoutExpirySweeper,
    FulfilmentService,
    LicenseGrantService,
    OrdersService,
    OrderRefunds,
    CustomerTimeline,
    LicenseMailResend,
    PAYMENT_PROVIDER,
    PayoutsModule,
    MarketplaceReport,
  ],
})
export class CommerceModule {}
