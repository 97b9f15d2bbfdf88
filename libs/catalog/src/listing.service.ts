import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '@berth/common';
import { DataSource } from 'typeorm';
import { ChartEntity, ListingEntity } from './entities';
import { CatalogErrorCode } from './errors';

/** ISO 4217 codes Stripe Checkout settles (lower case, as Stripe writes them). */
export const SUPPORTED_CURRENCIES = new Set(
  (
    'usd eur gbp chf cad aud nzd jpy sek nok dkk pln czk huf ron bgn isk try ils aed sar inr sgd hkd krw twd thb ' +
    'myr idr php vnd mxn brl clp cop pen uyu zar ngn kes egp mad'
  ).split(' '),
);

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
  constructor(private readonly dataSource: DataSource) {}

  async upsert(publisherId: string, chartName: string, input: ListingInput): Promise<ListingView> {
    const currency = input.price.currency.toLowerCase();
    if (!SUPPORTED_CURRENCIES.has(currency)) {
      throw invalid(CatalogErrorCode.CurrencyInvalid, `The currency "${input.price.currency}" is not supported.`);
    }
    if (!Number.isSafeInteger(input.price.amount) || input.price.amount < 0 || input.price.amount > 99_999_999) {
      throw invalid(CatalogErrorCode.PriceInvalid, 'The price must be a whole number of minor units between 0 and 99999999.');
    }
    const { kind, months } = input.updatePolicy;
    if ((kind === 'window') !== (months !== undefined)) {
      throw invalid(CatalogErrorCode.UpdatePolicyInvalid, 'Give "months" exactly when the update policy is "window".');
    }
    const chart = await this.dataSource.getRepository(ChartEntity).findOne({ where: { publisherId, name: chartName } });
    if (!chart) throw notFound(CatalogErrorCode.ChartNotFound, `No chart named ${chartName}; upload a version first.`);
    const repo = this.dataSource.getRepository(ListingEntity);
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
    const saved = await repo.findOneByOrFail({ chartId: chart.id });
    return {
      chart: chart.name,
      price: { amount: saved.priceAmount, currency: saved.currency },
      updatePolicy: saved.updateWindowMonths !== null ? { kind: saved.updatePolicy, months: saved.updateWindowMonths } : { kind: saved.updatePolicy },
      published: saved.published,
      updatedAt: saved.updatedAt,
    };
  }
}
