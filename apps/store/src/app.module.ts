import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AccountsModule } from '@berth/accounts';
import { AnalyticsModule } from '@berth/analytics';
import { AuditModule } from '@berth/audit';
import { ArtifactsModule } from '@berth/artifacts';
import { CatalogModule } from '@berth/catalog';
import { CommerceModule } from '@berth/commerce';
import { LicensingModule } from '@berth/licensing';
import { AppConfig, ConfigModule } from '@berth/config';
import { DatabaseModule } from '@berth/database';
import { HelmRepoModule } from '@berth/helm-repo';
import { StorefrontModule } from '@berth/storefront';
import { RegistryModule } from '@berth/registry';
import { MIGRATIONS } from '../../../migrations';
import { AccountClosure } from './account-closure';
import { AccountLinksController } from './http/account-links.controller';
import { AuditInterceptor } from './http/audited';
import { AuditLogController } from './http/audit-log.controller';
import { AnalyticsController } from './http/analytics.controller';
import { AccountPagesController } from './http/account-pages.controller';
import { AccountsController } from './http/accounts.controller';
import { BuyerController } from './http/buyer.controller';
import { BuyerPagesController } from './http/buyer-pages.controller';
import { BuyerSessionGuard } from './http/buyer-session';
import { CatalogController } from './http/catalog.controller';
import { ChartIntake } from './http/chart-intake';
import { ConsoleController } from './http/console/console.controller';
import { ConsoleSalesController } from './http/console/console-sales.controller';
import { CustomersController } from './http/customers.controller';
import { ConsoleGuard } from './http/console/console-auth';
import { ConsoleOperatorController } from './http/console/console-operator.controller';
import { ConsoleAdminController } from './http/console/console-admin.controller';
import { DownloadReport } from './http/download-report';
import { PublisherLogoController } from './http/publisher-logo.controller';
import { PublisherLogos } from './publisher-logos';
import { RegistryController } from './http/registry/registry.controller';
import { RegistryGuard } from './http/registry/registry-auth';
import { ReleaseImagesController } from './http/release-images.controller';
import { ChartMuseumController } from './http/chartmuseum.controller';
import { CheckoutController } from './http/checkout.controller';
import { ConnectWebhookController, PayoutsController } from './http/payouts.controller';
import { PayoutPagesController } from './http/payout-pages.controller';
import { OperatorController } from './http/operator.controller';
import { ConsolePayoutsController } from './http/console/console-payouts.controller';
import { CheckoutPagesController } from './http/checkout-pages.controller';
import { LicensesController } from './http/licenses.controller';
import { OrderReportsController } from './http/order-reports.controller';
import { OrderRefundsController } from './http/order-refunds.controller';
import { AuthFailureLimiter } from './http/auth-failure-limiter';
import { ClientLimits } from './http/client-limits';
import { HelmPullLane } from './http/helm-pull-lane';
import { ErrorFilter } from './http/error.filter';
import { HelmRepoController } from './http/helm-repo.controller';
import { ListingsController } from './http/listings.controller';
import { PublisherAuthGuard } from './http/publisher-auth.guard';
import { PublisherProfileController } from './http/publisher-profile.controller';
import { ENTITIES } from './entities';
import { loggerParams } from './logging';
import { Metrics } from './ops/metrics';
import { OpsController } from './ops/ops.controller';
import { PagesController } from './http/pages.controller';
import { MetricsAccess, MetricsServer } from './ops/metrics-endpoint';
import { MetricsExposition } from './ops/cluster-metrics';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(config.logLevel, config.logFormat)),
        DatabaseModule.forRoot({ entities: ENTITIES, migrations: MIGRATIONS }),
        ArtifactsModule,
        AccountsModule,
        CatalogModule,
        HelmRepoModule,
        LicensingModule,
        CommerceModule,
        StorefrontModule,
        AnalyticsModule,
        AuditModule,
        RegistryModule,
      ],
      controllers: [
        AccountsController,
        AccountLinksController,
        AccountPagesController,
        ListingsController,
        ChartMuseumController,
        HelmRepoController,
        CatalogController,
        CheckoutController,
        CheckoutPagesController,
        PagesController,
        BuyerController,
        BuyerPagesController,
        PublisherProfileController,
        AuditLogController,
        AnalyticsController,
        LicensesController,
        OrderReportsController,
        OrderRefundsController,
        CustomersController,
        OpsController,
        // Before ConsoleController: its `:slug` routes would take /console/operator.
        ConsoleOperatorController,
        ConsoleController,
        ConsoleSalesController,
        ConsoleAdminController,
        PublisherLogoController,
        RegistryController,
        ReleaseImagesController,
        PayoutsController,
        ConnectWebhookController,
        PayoutPagesController,
        OperatorController,
        ConsolePayoutsController,
      ],
      providers: [
        AccountClosure,
        DownloadReport,
        PublisherLogos,
        Metrics,
        MetricsExposition,
        MetricsAccess,
        MetricsServer,
        AuthFailureLimiter,
        ChartIntake,
        ClientLimits,
        HelmPullLane,
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_GUARD, useClass: PublisherAuthGuard },
        { provide: APP_GUARD, useClass: BuyerSessionGuard },
        { provide: APP_GUARD, useClass: ConsoleGuard },
        { provide: APP_GUARD, useClass: RegistryGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
      ],
    };
  }
}
