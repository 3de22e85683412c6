import pg from 'pg';
import { toAppError } from '@spectrum-grocers/contract';
import type { Logger } from '@spectrum-grocers/runtime';

/**
 * A replica's claims, held as PostgreSQL advisory locks on one connection of its own: the
 * intake of its service (one replica at a time) and the stores it processes. A lock lasts as
 * long as that connection, so a replica that dies, or is cut from the database, lets go of
 * everything at once, and the others take it over at their next look.
 */
export interface Leases {
  /** Connected, with the claims below; false after the connection is lost, until `connect`. */
  readonly alive: boolean;
  connect(): Promise<void>;
  /** Take the service's intake if nobody holds it; true when this replica holds it now. */
  takeIntake(): Promise<boolean>;
  releaseIntake(): Promise<void>;
  /** Take a store (one of `hq_stores`) if nobody holds it; true when this replica holds it now. */
  takeStore(store: string): Promise<boolean>;
  releaseStore(store: string): Promise<void>;
  /** Ask the connection (within its query timeout); a connection that does not answer is lost. */
  check(): Promise<void>;
  /** How many replicas of the service hold a lease connection now (this one included). */
  replicas(): Promise<number>;
  /** Called once each time the connection is lost: every claim went with it. */
  onLost(listener: () => void): void;
  /** Called with a notification's payload on `channel` (LISTEN). */
  onNotice(listener: (payload: string) => void): void;
  close(): Promise<void>;
}

/** How long the lease connection may take to connect or answer before it counts as lost. */
const TIMEOUT_MS = 10_000;

export function createLeases(opts: { url: string; service: string; channel: string; log: Logger }): Leases {
  // Every lease connection of a service carries this name: counting them counts the live replicas.
  const applicationName = `hq-leases:${opts.service}`;
  let client: pg.Client | undefined;
  let alive = false;
  const lost: Array<() => void> = [];
  const notices: Array<(payload: string) => void> = [];
  // Locks in the two-key space: (the service, 0) its intake, (the service, the store's id in
  // hq_stores) a store. Ids, not hashes of names: two names that hash alike would share one lock,
  // and a store released for rebalancing would stay held through the other.

  function drop(from: pg.Client, err?: unknown): void {
    // A late 'end' of a connection already replaced says nothing of the current one.
    if (!alive || from !== client) return;
    alive = false;
    client = undefined;
    opts.log.warn({ err: err && toAppError(err) }, 'lost the database connection that holds this replica’s claims');
    for (const l of lost) l();
  }

  return {
    get alive() {
      return alive;
    },
    async connect() {
      if (alive) return;
      const c = new pg.Client({
        connectionString: opts.url,
        application_name: applicationName,
        connectionTimeoutMillis: TIMEOUT_MS,
        query_timeout: TIMEOUT_MS,
        // A replica whose host dies sends no FIN: both ends probe, so its locks are let go (and it
        // lets go of its claims) within ~25 s rather than the system's two hours.
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
      });
      c.on('error', (err) => drop(c, err));
      c.on('end', () => drop(c));
      c.on('notification', (n) => {
        if (n.channel === opts.channel && n.payload !== undefined) for (const l of notices) l(n.payload);
      });
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(opts.channel)}`);
      client = c;
      alive = true;
    },
    async takeIntake() {
      if (!client) return false;
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), 0) AS ok', [
        opts.service,
      ]);
      return r.rows[0]?.ok === true;
    },
    async releaseIntake() {
      if (!client) return;
      await client.query('SELECT pg_advisory_unlock(hashtext($1), 0)', [opts.service]);
    },
    async takeStore(store) {
      if (!client) return false;
      const r = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1), s.id::int) AS ok FROM hq_stores s WHERE s.service = $1 AND s.store = $2',
        [opts.service, store],
      );
      return r.rows[0]?.ok === true;
    },
    async releaseStore(store) {
      if (!client) return;
      await client.query(
        'SELECT pg_advisory_unlock(hashtext($1), s.id::int) FROM hq_stores s WHERE s.service = $1 AND s.store = $2',
        [opts.service, store],
      );
    },
    async check() {
      const c = client;
      if (!c) return;
      try {
        await c.query('SELECT 1');
      } catch (err) {
        drop(c, err);
        throw err;
      }
    },
    async replicas() {
      if (!client) return 1;
      const r = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
        [applicationName],
      );
      return Math.max(1, Number(r.rows[0]?.n ?? 1));
    },
    onLost: (l) => void lost.push(l),
    onNotice: (l) => void notices.push(l),
    async close() {
      const c = client;
      alive = false;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
