import { minorUnitDigits } from '@berth/common';
import { platformFee } from './fees';

describe('platformFee', () => {
  it('takes basis points of a two-decimal price, rounded half up, plus the fixed fee', () => {
    expect(platformFee(4900, 'usd', { bps: 1000, fixed: { usd: 30 } })).toBe(520);
    expect(platformFee(4999, 'usd', { bps: 250, fixed: {} })).toBe(125); // 124.975 -> 125
    expect(platformFee(4998, 'usd', { bps: 250, fixed: {} })).toBe(125); // 124.95 -> 125
    expect(platformFee(4979, 'usd', { bps: 250, fixed: {} })).toBe(124); // 124.475 -> 124
    expect(platformFee(4900, 'eur', { bps: 0, fixed: { usd: 30 } })).toBe(0); // fixed fee of another currency
    expect(platformFee(4900, 'EUR', { bps: 0, fixed: { eur: 25 } })).toBe(25);
  });

  it('counts zero-decimal currencies in whole units', () => {
    expect(minorUnitDigits('jpy')).toBe(0);
    expect(platformFee(5000, 'jpy', { bps: 1000, fixed: { jpy: 40 } })).toBe(540);
    expect(platformFee(999, 'krw', { bps: 1500, fixed: {} })).toBe(150); // 149.85 -> 150
  });

  it('keeps three-decimal fees a multiple of ten, as Stripe requires', () => {
    expect(minorUnitDigits('kwd')).toBe(3);
    // 10.500 KWD at 2.5 %: 262.5 thousandths -> 260, and 265 -> 270
    expect(platformFee(10500, 'kwd', { bps: 250, fixed: {} })).toBe(260);
    expect(platformFee(10600, 'kwd', { bps: 250, fixed: {} })).toBe(270);
    expect(platformFee(10600, 'bhd', { bps: 250, fixed: { bhd: 15 } })).toBe(280); // 265 + 15 = 280
    for (let amount = 10; amount <= 5000; amount += 10) {
      expect(platformFee(amount, 'jod', { bps: 777, fixed: { jod: 5 } }) % 10).toBe(0);
    }
  });

  it('never exceeds the price, whatever the settings', () => {
    expect(platformFee(100, 'usd', { bps: 10000, fixed: { usd: 30 } })).toBe(100);
    expect(platformFee(50, 'usd', { bps: 0, fixed: { usd: 99 } })).toBe(50);
    expect(platformFee(10, 'kwd', { bps: 10000, fixed: { kwd: 995 } })).toBe(10);
    for (let amount = 1; amount < 3000; amount += 7) {
      for (const currency of ['usd', 'jpy', 'kwd']) {
        const fee = platformFee(amount, currency, { bps: 9000, fixed: { usd: 500, jpy: 500, kwd: 500 } });
        expect(fee).toBeGreaterThanOrEqual(0);
        expect(fee).toBeLessThanOrEqual(amount);
      }
    }
  });

  it('is zero for nothing to take', () => {
    expect(platformFee(0, 'usd', { bps: 1000, fixed: { usd: 30 } })).toBe(0);
    expect(platformFee(4900, 'usd', { bps: 0, fixed: {} })).toBe(0);
  });
});
