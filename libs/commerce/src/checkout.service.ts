import { Inject, Injectable } from '@nestjs/common';
import { ChartQueryService, ListingService } from '@berth/catalog';
import type { DomainError } from '@berth/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { LicenseService, LicenseView, newestStable } from '@berth/licensing';
import { PayoutAccounts, SaleRoute } from '@berth/payouts';
import { DataSource, EntityManager } from 'typeorm';
import { OrderEntity, OrderStatus } from './entities';
import { FulfilmentService } from './fulfilment.service';
import { PAYMENT_PROVIDER, PaymentProvider } from './payment-provider';
import { CommerceErrors } from './errors';

export interface StartedCheckout {
  orderId: string;
  sessionId: string;
  checkoutUrl: string;
}

export interface CheckoutState {
  status: OrderStatus;
  orderId: string;
  publisherSlug: string;
  chartName: string;
  provider: 'stripe' | 'local';
  amount: number;
  currency: string;
  /** When the checkout stops being payable; null on orders from before expiry existed. */
  expiresAt: Date | null;
  license: (LicenseView & { key: string }) | null;
}

@Injectable()
export class CheckoutService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly listings: ListingService,
    private readonly charts: ChartQueryService,
    private readonly licenses: LicenseService,
    private readonly fulfilment: FulfilmentService,
    private readonly payouts: PayoutAccounts,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get providerName(): 'stripe' | 'local' {
    return this.provider.name;
  }

  /** Opens a checkout for a published paid chart at its current price. */
  async start(
    publisher: { id: string; slug: string },
    chartName: string,
    email: string,
  ): Promise<StartedCheckout> {
    const listing = await this.listings.find(publisher.id, chartName);
    if (!listing || !listing.published) {
      throw CommerceErrors.ChartNotForSale('No such chart for sale.');
    }
    if (listing.priceAmount === 0) {
      throw CommerceErrors.ChartIsFree();
    }
    // PAYOUTS=connect: refused (409 publisher_not_payable) before any order exists when transfers cannot
    // reach the publisher; the fee is fixed now, with the price.
    const route = await this.payouts.routeSale(publisher.id, listing.priceAmount, listing.currency);
    // `major` and `minor` are anchored on the newest stable version the buyer saw now, not at payment
    // (a release between checkout and a late or asynchronous payment must not move the license).
    const versions =
      (await this.charts.listVersions(publisher.id, 'publisher', listing.chartName)).get(listing.chartName) ??
      [];
    const repo = this.dataSource.getRepository(OrderEntity);
    const order = await repo.save(
      repo.create({
        publisherId: publisher.id,
        publisherSlug: publisher.slug,
        chartId: listing.chartId,
        chartName: listing.chartName,
        updatePolicy: listing.updatePolicy,
        updateWindowMonths: listing.updateWindowMonths,
        newestStableVersion: newestStable(versions.map((v) => v.version)),
        buyerEmail: email.trim().toLowerCase(),
        amount: listing.priceAmount,
        currency: listing.currency,
        provider: this.provider.name,
        providerSessionId: null,
        paymentRef: null,
        status: 'pending',
        refundedAmount: 0,
        paidAt: null,
        expiresAt: new Date(Date.now() + this.config.payments.checkoutExpirySeconds * 1000),
        transferDestination: route?.destination ?? null,
        platformFeeAmount: route?.applicationFeeAmount ?? null,
      }),
    );
    const session = await this.openSession(order, publisher.slug, listing.chartName, route);
    await repo.update(
      { id: order.id },
      { providerSessionId: session.sessionId, expiresAt: session.expiresAt },
    );
    return { orderId: order.id, sessionId: session.sessionId, checkoutUrl: session.url };
  }

  /** A checkout the provider could not open leaves a failed order, not a pending one. */
  private async openSession(order: OrderEntity, slug: string, chartName: string, route: SaleRoute | null) {
    try {
      return await this.createSession(order, slug, chartName, route);
    } catch (e) {
      await this.dataSource.getRepository(OrderEntity).update({ id: order.id }, { status: 'failed' });
      throw e;
    }
  }

  private createSession(order: OrderEntity, slug: string, chartName: string, route: SaleRoute | null) {
    return this.provider.createCheckout({
      orderId: order.id,
      amount: order.amount,
      currency: order.currency,
      buyerEmail: order.buyerEmail,
      productName: `${slug}/${chartName} (Helm chart license)`,
      successUrl: `${this.config.publicUrl}/checkout/success?session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: `${this.config.publicUrl}/v1/catalog/${slug}/${chartName}`,
      expiresAt: order.expiresAt ?? new Date(Date.now() + this.config.payments.checkoutExpirySeconds * 1000),
      ...(route ? { transfer: route } : {}),
    });
  }

  /** What the holder of a session id may see: the order's state and, once paid, the license key. */
  async state(sessionId: string): Promise<CheckoutState> {
    const order =
      sessionId.length <= 255
        ? await this.dataSource
            .getRepository(OrderEntity)
            .findOne({ where: { providerSessionId: sessionId } })
        : null;
    if (!order) throw CommerceErrors.CheckoutNotFound();
    const license = order.status === 'paid' ? await this.licenses.findByOrder(order.id) : null;
    // A local checkout past its expiry is expired already, whether or not the sweep has marked it yet.
    const lapsed =
      order.provider === 'local' &&
      order.status === 'pending' &&
      order.expiresAt !== null &&
      order.expiresAt.getTime() <= Date.now();
    return {
      status: lapsed ? 'expired' : order.status,
      orderId: order.id,
      publisherSlug: order.publisherSlug,
      chartName: order.chartName,
      provider: order.provider,
      amount: order.amount,
      currency: order.currency,
      expiresAt: order.expiresAt,
      license:
        license && license.status === 'active' ? { ...license, key: this.licenses.keyFor(license) } : null,
    };
  }

  /**
   * The local pay page's button: fulfils through the same path as a Stripe completion, but only while
   * the checkout is open and the listing still says what the page showed (published, same price,
   * currency and update policy). Otherwise the order becomes `expired` (committed) and the buyer is
   * told to start again; nothing is issued.
   */
  async payLocal(sessionId: string): Promise<void> {
    if (!sessionId.startsWith('local_cs_') || this.provider.name !== 'local') {
      throw CommerceErrors.CheckoutNotFound();
    }
    const refusal = await this.dataSource.transaction(async (m) => {
      const found = await m.findOne(OrderEntity, { where: { providerSessionId: sessionId } });
      if (!found) throw CommerceErrors.CheckoutNotFound();
      const order = (await this.fulfilment.lockOrder(m, found.id)) as OrderEntity;
      if (order.status === 'pending') {
        const refused = await this.stillPayable(m, order);
        if (refused) {
          await m.update(OrderEntity, { id: order.id, status: 'pending' }, { status: 'expired' });
          return refused;
        }
      } else if (order.status === 'expired') {
        return CommerceErrors.CheckoutExpired();
      }
      await this.fulfilment.fulfil(m, order, sessionId);
      return null;
    });
    if (refusal) throw refusal;
  }

  /** Why a pending local order can no longer be paid, or null when it can. */
  private async stillPayable(m: EntityManager, order: OrderEntity): Promise<DomainError | null> {
    if (order.expiresAt && order.expiresAt.getTime() <= Date.now()) {
      return CommerceErrors.CheckoutExpired();
    }
    const listing = await this.listings.find(order.publisherId, order.chartName, m);
    const same =
      !!listing &&
      listing.published &&
      listing.chartId === order.chartId &&
      listing.priceAmount === order.amount &&
      listing.currency === order.currency &&
      listing.updatePolicy === order.updatePolicy &&
      (listing.updatePolicy !== 'window' || listing.updateWindowMonths === order.updateWindowMonths);
    return same ? null : CommerceErrors.CheckoutListingChanged();
  }
}
