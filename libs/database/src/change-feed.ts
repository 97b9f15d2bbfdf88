import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { Client } from 'pg';
import { DataSource, EntityManager } from 'typeorm';

/** What changed. Payloads are ids, never secrets: every session on the database can LISTEN. */
export type ChangeTopic = 'licenses' | 'signing_keys' | 'catalog' | 'publishers' | 'rate_limits';

/** Delivered to every subscriber when changes may have been missed (listener (re)connected). */
export const CHANGES_MISSED = Symbol('changes-missed');

type Handler = (payload: string | typeof CHANGES_MISSED) => void;

const CHANNEL = 'berth_changes';

/**
 * Cross-replica change notices over Postgres LISTEN/NOTIFY. `publish` runs `pg_notify` in the caller's
 * transaction, so every replica (this one included) hears of a change exactly when it commits, and
 * never of one that rolled back. One dedicated connection listens and reconnects with backoff; while it
 * is down `connected` is false and subscribers are told they may have missed changes, so caches stop
 * trusting what they hold. The embedded database serves a single process: notices stay in memory.
 */
@Injectable()
export class ChangeFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ChangeFeed.name);
  private readonly events = new EventEmitter();
  private client: Client | null = null;
  private listening = false;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private retryMs = 250;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.events.setMaxListeners(100);
  }

  /** Embedded: always true (one process). Postgres: true while the listener connection is up. */
  get connected(): boolean {
    return !this.config.database.url || this.listening;
  }

  subscribe(topic: ChangeTopic, handler: Handler): () => void {
    this.events.on(topic, handler);
    return () => this.events.off(topic, handler);
  }

  /** Announces a change; inside `manager`'s transaction when given, so it is heard on commit only. */
  async publish(topic: ChangeTopic, payload = '', manager?: EntityManager): Promise<void> {
    if (!this.config.database.url) {
      this.events.emit(topic, payload);
      return;
    }
    await (manager ?? this.dataSource.manager).query('SELECT pg_notify($1, $2)', [
      CHANNEL,
      `${topic}:${payload}`,
    ]);
  }

  /**
   * Tells this process's subscribers only, at once. For the replica that made a change, after its
   * commit: its own caches must not wait for its notice to come back through Postgres.
   */
  announceLocally(topic: ChangeTopic, payload = ''): void {
    this.events.emit(topic, payload);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.database.url) return;
    await this.tryConnect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = null;
    this.listening = false;
    await c?.end().catch(() => undefined);
  }

  private async tryConnect(): Promise<void> {
    await this.connect().catch(() => {
      if (this.client) this.lost(this.client);
      else this.scheduleReconnect();
    });
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.config.database.url,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      const i = n.payload.indexOf(':');
      this.events.emit(n.payload.slice(0, i), n.payload.slice(i + 1));
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    this.client = client;
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    if (this.client !== client || this.stopped) return;
    this.listening = true;
    this.retryMs = 250;
    this.logger.log({ msg: 'listening for changes from other replicas' });
    // Whatever happened while nobody listened is unknown: caches start over.
    this.missed();
  }

  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = null;
    if (this.listening)
      this.logger.warn({ msg: 'change listener disconnected; caches bypassed until it is back' });
    this.listening = false;
    this.missed();
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) void this.tryConnect();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, 5000);
  }

  private missed(): void {
    for (const topic of this.events.eventNames()) this.events.emit(topic, CHANGES_MISSED);
  }
}
