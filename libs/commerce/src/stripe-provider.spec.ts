import { stripeExpiresAt } from './stripe-provider';

describe('stripeExpiresAt', () => {
  const now = Date.UTC(2026, 0, 1);
  const s = now / 1000;

  it('sends the requested expiry when Stripe accepts it', () => {
    expect(stripeExpiresAt(new Date(now + 7200_000), now)).toBe(s + 7200);
  });

  it("moves it into Stripe's window (30 minutes to 24 hours after creation) with a minute's margin", () => {
    expect(stripeExpiresAt(new Date(now + 1800_000), now)).toBe(s + 1860);
    expect(stripeExpiresAt(new Date(now), now)).toBe(s + 1860);
    expect(stripeExpiresAt(new Date(now + 86400_000), now)).toBe(s + 86340);
  });
});
