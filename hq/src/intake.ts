import { ALL_STORES, idFromBytes, parseJson, schemas, toAppError } from '@spectrum-grocers/contract';
import type { Bus, Logger } from '@spectrum-grocers/runtime';
import type { Pool } from './db.js';

type Delivery = Parameters<Parameters<Bus['consume']>[1]>[0][number];

/**
 * A store's name as HQ keeps it: one topic level of at most 128 characters with no NUL (which
 * PostgreSQL text refuses), and not the whole chain's. Anything else on the wire is no store.
 */

/** The store a chain topic belongs to: `{chain}/{store}/…`, when it is a name a store may have. */
export function storeOfTopic(topic: string): string | undefined {
  const store = topic.split('/')[1];
  const named =
    store !== undefined && store.length > 0 && store.length <= 128 && !/[/#+]/.test(store) && !store.includes('\0');
  return named && store !== ALL_STORES ? store : undefined;
}

/** The event id a message carries, or one derived from its bytes (an original publisher sends none). */
export function eventIdOf(bytes: Buffer): string {
  const json = parseJson(bytes);
  const id =
    json.ok && typeof json.value === 'object' && json.value !== null
      ? (json.value as { event_id?: unknown }).event_id
      : undefined;
  // Only an id our schemas accept is used as the key; any other (a NUL, 10,000 characters) is
  // the message's bytes' id, and the processing refuses the message by its schema.
  return schemas.EventId.safeParse(id).success ? (id as string) : idFromBytes(bytes);
}

/**
 * The service's intake: one persistent session at HQ (held by one replica at a time) reads what
 * the service consumes from every store (`{chain}/+/{event}`), and each batch is stored raw in
 * the inbox in one transaction before it is acknowledged. A new store's first events are never
 * lost for want of a subscriber, and processing can be split between replicas by store.
 */
export function createIntake(deps: {
  pool: Pool;
  bus: Bus;
  service: string;
  channel: string;
  log: Logger;
  /** Bigger messages are acknowledged and dropped, with a warning: the services refuse them anyway. */
  maxPayloadBytes: number;
}) {
  const { pool, bus, service, channel, log, maxPayloadBytes } = deps;
  let taken = 0;
  async function store(batch: readonly Delivery[]): Promise<void> {
    const rows = batch.flatMap((d) => {
      const store = storeOfTopic(d.topic);
      if (store === undefined) {
        log.warn({ topic: d.topic.slice(0, 300) }, 'a message on a topic of no store; acknowledged and ignored');
        return [];
      }
      if (d.payload.length > maxPayloadBytes) {
        log.warn(
          { topic: d.topic, bytes: d.payload.length },
          `a message of ${d.payload.length} bytes, over MAX_PAYLOAD_BYTES; acknowledged and dropped`,
        );
        return [];
      }
      return [{ store, topic: d.topic, eventId: eventIdOf(d.payload), payload: d.payload }];
    });
    if (rows.length === 0) return;
    // One statement, so one transaction: the rows, the stores first heard of, and a word to the
    // replicas that process them.
    await pool.query(
      `WITH given AS (
         SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[]) AS g(store, topic, event_id, payload)
       ), added AS (
         INSERT INTO inbox (service, store, topic, event_id, payload)
         SELECT $1, store, topic, event_id, payload FROM given
         ON CONFLICT (service, topic, event_id) DO NOTHING
         RETURNING store
       ), known AS (
         INSERT INTO hq_stores (service, store) SELECT DISTINCT $1, store FROM given
         ON CONFLICT DO NOTHING
       )
       SELECT pg_notify($6, $1 || '/' || store) FROM (SELECT DISTINCT store FROM added) s`,
      [
        service,
        rows.map((r) => r.store),
        rows.map((r) => r.topic),
        rows.map((r) => r.eventId),
        rows.map((r) => r.payload),
        channel,
      ],
    );
    taken += rows.length;
  }
  return {
    get taken() {
      return taken;
    },
    /** Subscribe and take batches until the bus closes; a failed store leaves the batch unacknowledged. */
    start(filters: readonly string[], maxInFlight: number): Promise<void> {
      return bus.consume(
        filters,
        (batch) =>
          store(batch).catch((err: unknown) => {
            log.error({ err: toAppError(err), messages: batch.length }, 'could not store a batch; it comes again');
            throw err;
          }),
        { maxInFlight },
      );
    },
  };
}
