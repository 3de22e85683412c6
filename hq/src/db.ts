import pg from 'pg';

export type Pool = pg.Pool;
export type Tx = pg.PoolClient;

/**
 * What every head-office service keeps in PostgreSQL, each row under its service's name so that
 * services can share one database:
 * - `inbox`: every event the service's intake took from the broker, raw, once per
 *   (topic, event_id); `done_at` is set in the same transaction as the event's effect, so an
 *   event takes effect once whoever processes it and however often it came.
 * - `hq_stores`: the stores the service has heard of, each with an id (its lock); replicas split
 *   them between themselves.
 * - `outbox`: what the service publishes, committed with the effect that produced it and sent
 *   from `publish_after` on (a delivery that takes time to arrive).
 */
export const HQ_SCHEMA = `
CREATE TABLE IF NOT EXISTS inbox (
  seq         bigserial PRIMARY KEY,
  service     text NOT NULL,
  store       text NOT NULL,
  topic       text NOT NULL,
  event_id    text NOT NULL,
  payload     bytea NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  done_at     timestamptz,
  outcome     text CHECK (outcome IN ('handled', 'refused')),
  reason      text,
  UNIQUE (service, topic, event_id)
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (service, store, seq) WHERE done_at IS NULL;
CREATE TABLE IF NOT EXISTS hq_stores (
  service    text NOT NULL,
  store      text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (service, store)
);
-- The store's lock key (leases.ts): a number of its own, never shared with another store.
ALTER TABLE hq_stores ADD COLUMN IF NOT EXISTS id bigserial;
CREATE TABLE IF NOT EXISTS outbox (
  seq           bigserial PRIMARY KEY,
  service       text NOT NULL,
  store         text NOT NULL,
  topic         text NOT NULL,
  event_id      text NOT NULL,
  payload       text NOT NULL,
  publish_after timestamptz NOT NULL DEFAULT now(),
  sent_at       timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (service, store, publish_after) WHERE sent_at IS NULL;
`;

/** A pool whose connections say which service and replica they serve (pg_stat_activity). */
export function createPool(url: string, applicationName: string, max = 8): Pool {
  const pool = new pg.Pool({ connectionString: url, application_name: applicationName, max });
  // A connection lost while idle (a restarted server) is dropped and made again on demand;
  // unheard, the pool's 'error' would end the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Run `work` in one transaction: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: Pool, work: (tx: Tx) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    return result;
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    tx.release();
  }
}

/**
 * Create the tables (the runtime's and the service's own), once at a time: replicas starting
 * together would otherwise race on CREATE … IF NOT EXISTS, which is not safe concurrently.
 */
export async function migrate(pool: Pool, schema = ''): Promise<void> {
  await inTransaction(pool, async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('spectrum-grocers:hq:schema'))");
    await tx.query(HQ_SCHEMA + schema);
  });
}
