import Stripe from 'stripe';

/** The one way the store builds its Stripe client: retries, a timeout, and STRIPE_API_URL (stripe-mock). */
export function stripeClient(secretKey: string, apiUrl?: string): Stripe {
  const u = apiUrl ? new URL(apiUrl) : null;
  return new Stripe(secretKey, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    ...(u
      ? {
          host: u.hostname,
          port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
          protocol: u.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
  });
}
