import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ChartEntity, ListingEntity } from './entities';
import { CatalogChanges } from './catalog-changes';
import { CatalogErrors } from './errors';

/**
 * ISO 4217 codes accepted for prices (lower case, as Stripe writes them), each with Stripe's minimum
 * charge in minor units: a paid price below it could never be charged.
 */
export const MINIMUM_CHARGE: Readonly<Record<string, number>> = {
  usd: 50,
  eur: 50,
  gbp: 30,
  chf: 50,
  cad: 50,
  aud: 50,
  nzd: 50,
  sgd: 50,
  hkd: 400,
  jpy: 50,
  sek: 300,
  nok: 300,
  dkk: 250,
  pln: 200,
  czk: 1500,
  huf: 17500,
  ron: 200,
  bgn: 100,
  aed: 200,
  inr: 50,
  mxn: 1000,
  brl: 50,
  myr: 200,
  thb: 1000,
};
export const SUPPORTED_CURRENCIES = new Set(Object.keys(MINIMUM_CHARGE));

export interface PurchasableListing {
  chartId: string;
  chartName: string;
  priceAmount: number;
  currency: string;
  updatePolicy: UpdatePolicyKind;
  updateWindowMonths: number | null;
  published: boolean;
}

export type UpdatePolicyKind = 'all' | 'major' | 'minor' | 'window';

export interface ListingInput {
  price: { amount: number; currency: string };
  updatePolicy: { kind: UpdatePolicyKind; months?: number };
  published: boolean;
}

export interface ListingView {
  chart: string;
  price: { amount: number; currency: string };
  updatePolicy: { kind: UpdatePolicyKind; months?: number };
  published: boolean;
  updatedAt: Date;
}

@Injectable()
export class ListingService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly changes: CatalogChanges,
  ) {}

  /**
   * The chart and its listing, whatever its state (the caller decides what is purchasable). Inside a
   * transaction (`m`) the listing row is read FOR SHARE: a price or policy change waits until that
   * transaction ends, so what was checked is what the transaction commits against.
   */
  async find(publisherId: string, chartName: string, m?: EntityManager): Promise<PurchasableListing | null> {
    const manager = m ?? this.dataSource.manager;
    const chart = await manager
      .getRepository(ChartEntity)
      .findOne({ where: { publisherId, name: chartName } });
    if (!chart) return null;
    const l = await manager.getRepository(ListingEntity).findOne({
      where: { chartId: chart.id },
      ...(m ? { lock: { mode: 'pessimistic_read' as const } } : {}),
    });
    if (!l) return null;
    return {
      chartId: chart.id,
      chartName: chart.name,
      priceAmount: l.priceAmount,
      currency: l.currency,
      updatePolicy: l.updatePolicy,
      updateWindowMonths: l.updateWindowMonths,
      published: l.published,
    };
  }

  async upsert(publisherId: string, chartName: string, input: ListingInput): Promise<ListingView> {
    const currency = input.price.currency.toLowerCase();
    if (!SUPPORTED_CURRENCIES.has(currency)) {
      throw CatalogErrors.CurrencyInvalid(input.price.currency);
    }
    if (
      !Number.isSafeInteger(input.price.amount) ||
      input.price.amount < 0 ||
      input.price.amount > 99_999_999
    ) {
      throw CatalogErrors.PriceInvalid();
    }
    if (input.price.amount > 0 && input.price.amount < MINIMUM_CHARGE[currency]) {
      throw CatalogErrors.PriceBelowMinimum(currency, MINIMUM_CHARGE[currency]);
    }
    const { kind, months } = input.updatePolicy;
    if ((kind === 'window') !== (months !== undefined)) {
      throw CatalogErrors.UpdatePolicyInvalid();
    }
    const chart = await this.dataSource
      .getRepository(ChartEntity)
      .findOne({ where: { publisherId, name: chartName } });
    if (!chart) throw CatalogErrors.ChartNotFound(`No chart named ${chartName}; upload a version first.`);
    const saved = await this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(ListingEntity);
      await repo.upsert(
        {
          chartId: chart.id,
          priceAmount: input.price.amount,
          currency,
          updatePolicy: kind,
          updateWindowMonths: months ?? null,
          published: input.published,
          updatedAt: new Date(),
        },
        ['chartId'],
      );
      await this.changes.announce(m, publisherId, chart.name);
      return repo.findOneByOrFail({ chartId: chart.id });
    });
    this.changes.committed(publisherId, chart.name);
    return {
      chart: chart.name,
      price: { amount: saved.priceAmount, currency: saved.currency },
      updatePolicy:
        saved.updateWindowMonths !== null
          ? { kind: saved.updatePolicy, months: saved.updateWindowMonths }
          : { kind: saved.updatePolicy },
      published: saved.published,
      updatedAt: saved.updatedAt,
    };
  }
}
