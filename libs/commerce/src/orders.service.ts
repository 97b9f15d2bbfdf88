import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OrderEntity, OrderStatus } from './entities';

export interface OrderView {
  id: string;
  chart: string;
  buyerEmail: string;
  amount: number;
  currency: string;
  provider: string;
  status: OrderStatus;
  refundedAmount: number;
  createdAt: Date;
  paidAt: Date | null;
}

@Injectable()
export class OrdersService {
  constructor(private readonly dataSource: DataSource) {}

  async list(publisherId: string): Promise<OrderView[]> {
    const rows = await this.dataSource
      .getRepository(OrderEntity)
      .find({ where: { publisherId }, order: { createdAt: 'DESC' }, take: 500 });
    return rows.map((o) => ({
      id: o.id,
      chart: o.chartName,
      buyerEmail: o.buyerEmail,
      amount: o.amount,
      currency: o.currency,
      provider: o.provider,
      status: o.status,
      refundedAmount: o.refundedAmount,
      createdAt: o.createdAt,
      paidAt: o.paidAt,
    }));
  }
}
