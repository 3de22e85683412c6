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
  /** Take `name` if nobody holds it; true when this replica holds it now. */
  take(name: string): Promise<boolean>;
  release(name: string): Promise<void>;
  /** How many replicas of the service hold a lease connection now (this one included). */
  replicas(): Promise<number>;
  /** Called once each time the connection is lost: every claim went with it. */
  onLost(listener: () => void): void;
  /** Called with a notification's payload on `channel` (LISTEN). */
  onNotice(listener: (payload: string) => void): void;
  close(): Promise<void>;
}

export function createLeases(opts: { url: string; service: string; channel: string; log: Logger }): Leases {
  // Every lease connection of a service carries this name: counting them counts the live replicas.
  const applicationName = `hq-leases:${opts.service}`;
  let client: pg.Client | undefined;
  let alive = false;
  const lost: Array<() => void> = [];
  const notices: Array<(payload: string) => void> = [];
  // One lock per name, in the service's own space (two names that hash alike share one lock: both
  // go to the same replica, which is safe).
  const lockName = (name: string) => `${opts.service}:${name}`;

  function drop(err?: unknown): void {
    if (!alive) return;
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
      const c = new pg.Client({ connectionString: opts.url, application_name: applicationName });
      c.on('error', (err) => drop(err));
      c.on('end', () => drop());
      c.on('notification', (n) => {
        if (n.channel === opts.channel && n.payload !== undefined) for (const l of notices) l(n.payload);
      });
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(opts.channel)}`);
      client = c;
      alive = true;
    },
    async take(name) {
      if (!client) return false;
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), 0) AS ok', [
        lockName(name),
      ]);
      return r.rows[0]?.ok === true;
    },
    async release(name) {
      if (!client) return;
      await client.query('SELECT pg_advisory_unlock(hashtext($1), 0)', [lockName(name)]);
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
