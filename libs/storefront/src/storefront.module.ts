import { Module } from '@nestjs/common';
import { AccountsModule } from '@berth/accounts';
import { AnalyticsModule } from '@berth/analytics';
import { CatalogModule } from '@berth/catalog';
import { LicensingModule } from '@berth/licensing';
import { MailModule } from '@berth/mail';
import { PayoutsModule } from '@berth/payouts';
import { BuyerSignInService } from './buyers/buyer-sign-in.service';
import { CatalogPages } from './catalog-pages.service';
import { RenderedPages } from './rendered-pages';

/** The public pages' read models and rendering, and buyers' sign-in; controllers live at the HTTP edge. */
@Module({
  imports: [CatalogModule, AccountsModule, LicensingModule, MailModule, AnalyticsModule, PayoutsModule],
  providers: [CatalogPages, BuyerSignInService, RenderedPages],
  exports: [CatalogPages, BuyerSignInService, RenderedPages],
})
export class StorefrontModule {}
