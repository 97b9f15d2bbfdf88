import type { DataSource } from 'typeorm';
import type { ConnectEvent, ConnectProvider } from './connect-provider';
import { ConnectEvents } from './connect-events';
import type { PayoutAccounts } from './payout-accounts';

describe('ConnectEvents on a live key', () => {
  const live = { livemode: true } as ConnectProvider;
  // Any use of the database would throw: an ignored event must not reach it.
  const noDatabase = new Proxy({} as DataSource, {
    get: () => {
      throw new Error('the database was used');
    },
  });
  const events = new ConnectEvents(noDatabase, {} as PayoutAccounts, live);
  const event = (livemode: boolean): ConnectEvent => ({
    type: 'account.updated',
    id: 'evt_1',
    account: 'acct_1',
    livemode,
    created: new Date(),
    state: { chargesEnabled: true, payoutsEnabled: true, transfers: 'active', currentlyDue: [] },
  });

  it('ignores a test-mode event, touching nothing', async () => {
    await expect(events.handle(event(false))).resolves.toBe('ignored');
  });

  it('acts on a live event (here: reaches the database)', async () => {
    await expect(events.handle(event(true))).rejects.toThrow('the database was used');
  });
});
