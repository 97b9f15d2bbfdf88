import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { CONNECT_PROVIDER, ConnectProvider } from './connect-provider';
import { ConnectEvents } from './connect-events';
import { LocalConnectProvider } from './local-connect-provider';
import { PayoutAccounts } from './payout-accounts';
import { StripeConnectProvider } from './stripe-connect-provider';
import { TransferActions } from './transfer-actions';

@Module({
  providers: [
    {
      provide: CONNECT_PROVIDER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ConnectProvider => {
        const p = config.payments;
        if (p.provider === 'stripe' && config.payouts.mode === 'connect') {
          return new StripeConnectProvider(
            p.stripeSecretKey,
            config.payouts.connectWebhookSecret as string,
            p.stripeApiUrl,
          );
        }
        if (config.payouts.mode === 'connect') {
          new Logger('Payouts').warn(
            'PAYOUTS=connect without Stripe: publishers onboard on a local page and no money moves.',
          );
        }
        return new LocalConnectProvider(config.publicUrl);
      },
    },
    PayoutAccounts,
    ConnectEvents,
    TransferActions,
  ],
  exports: [PayoutAccounts, ConnectEvents, TransferActions],
})
export class PayoutsModule {}
