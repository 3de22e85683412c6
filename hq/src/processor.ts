import {
  ALL_STORES,
  AppError,
  parseEvent,
  parseTopic,
  toAppError,
  type Event,
  type EventName,
} from '@spectrum-grocers/contract';
import type { Logger } from '@spectrum-grocers/runtime';
import { inTransaction, type Pool, type Tx } from './db.js';

/** What a head-office handler publishes: committed with its effect, sent from `publishAfter` on. */
export interface HqOutgoing {
  readonly topic: string;
  readonly eventId: string;
  readonly payload: object;
  /** The store it goes to (which replica sends it), or `all-stores`. */
  readonly store: string;
  readonly publishAfter?: Date;
}

export interface HandlerContext {
  /** The transaction the event's effect is written in, with the inbox row it marks done. */
  readonly tx: Tx;
  readonly store: string;
  readonly topic: string;
}

export type HqHandler<E extends EventName> = (event: Event<E>, ctx: HandlerContext) => Promise<readonly HqOutgoing[]>;
export type HqRoutes = { readonly [E in EventName]?: HqHandler<E> };

/** A value PostgreSQL refuses whatever is tried again: data exception (22) or integrity violation (23). */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

/** Rows taken per transaction: one commit for many events, as a store's consumers do. */
const BATCH = 256;

interface InboxRow {
  seq: string;
  topic: string;
  event_id: string;
  payload: Buffer;
}

/** The channel replicas LISTEN on: `{service}/{store}` has work (events in, events out). */
export const INBOX_CHANNEL = 'hq_inbox';

/**
 * Write outgoing events into the outbox, in the caller's transaction (a handler's, or an HTTP
 * request's). Each store they go to becomes one the service knows, so some replica owns it and
 * sends them, and its owner is told at commit rather than at its next look.
 */
export async function enqueue(tx: Tx, service: string, rows: readonly HqOutgoing[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `WITH added AS (
       INSERT INTO outbox (service, store, topic, event_id, payload, publish_after)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
       RETURNING store
     ), known AS (
       INSERT INTO hq_stores (service, store) SELECT DISTINCT $1, store FROM added WHERE store <> $7
       ON CONFLICT DO NOTHING
     )
     SELECT pg_notify($8, $1 || '/' || store) FROM (SELECT DISTINCT store FROM added) s`,
    [
      service,
      rows.map((r) => r.store),
      rows.map((r) => r.topic),
      rows.map((r) => r.eventId),
      rows.map((r) => JSON.stringify(r.payload)),
      rows.map((r) => (r.publishAfter ?? new Date()).toISOString()),
      ALL_STORES,
      INBOX_CHANNEL,
    ],
  );
}

/**
 * Apply a store's waiting events, oldest first: each in a savepoint of its own, a batch in one
 * transaction that also marks its inbox rows done. The rows are locked (FOR UPDATE): a replica
 * that took the store over while another still finishes a batch waits for it, then finds those
 * rows done, so no event takes effect twice even while two replicas briefly both think it is theirs.
 */
export function createProcessor(deps: { pool: Pool; service: string; chain: string; routes: HqRoutes; log: Logger }) {
  const { pool, service, chain, routes, log } = deps;
  let handled = 0;
  let refused = 0;

  async function one(
    tx: Tx,
    store: string,
    row: InboxRow,
  ): Promise<{ outcome: 'handled' | 'refused'; reason?: string }> {
    const kind = parseTopic({ chain, store }, row.topic);
    const handler: HqHandler<EventName> | undefined = kind.kind === 'event' ? routes[kind.event] : undefined;
    if (kind.kind !== 'event' || handler === undefined)
      return { outcome: 'refused', reason: `no handler for ${row.topic}` };
    const parsed = parseEvent(kind.event, row.payload);
    if (!parsed.ok) return { outcome: 'refused', reason: parsed.reason };
    await tx.query('SAVEPOINT event');
    try {
      const out = await handler(parsed.value, { tx, store, topic: row.topic });
      await enqueue(tx, service, out);
      await tx.query('RELEASE SAVEPOINT event');
      return { outcome: 'handled' };
    } catch (err) {
      // Settled as refused: a handler's own refusal, or a value PostgreSQL refuses (a year 0, a
      // number past bigint: SQLSTATE classes 22 and 23), which no retry changes. Anything else, a
      // deadlock, a lost connection, a bug, may pass: the batch is rolled back and comes again.
      const refusal = err instanceof AppError ? !err.retryable : isDataError(err);
      if (!refusal) throw toAppError(err);
      await tx.query('ROLLBACK TO SAVEPOINT event');
      const e = toAppError(err, 'PAYLOAD_INVALID');
      return { outcome: 'refused', reason: `${e.code}: ${e.message}` };
    }
  }

  /** One batch of `store`'s waiting events; resolves to how many it took (0: none waits). */
  async function batch(store: string): Promise<number> {
    return inTransaction(pool, async (tx) => {
      const rows = await tx.query<InboxRow>(
        `SELECT seq, topic, event_id, payload FROM inbox
          WHERE service = $1 AND store = $2 AND done_at IS NULL ORDER BY seq LIMIT $3 FOR UPDATE`,
        [service, store, BATCH],
      );
      const outcomes = [];
      for (const row of rows.rows) {
        const o = await one(tx, store, row);
        if (o.outcome === 'refused') {
          log.warn({ store, topic: row.topic, eventId: row.event_id, reason: o.reason }, 'refused an event');
        }
        outcomes.push(o);
      }
      await tx.query(
        `UPDATE inbox SET done_at = now(), outcome = o.outcome, reason = o.reason
           FROM unnest($1::bigint[], $2::text[], $3::text[]) AS o(seq, outcome, reason) WHERE inbox.seq = o.seq`,
        [rows.rows.map((r) => r.seq), outcomes.map((o) => o.outcome), outcomes.map((o) => o.reason ?? null)],
      );
      handled += outcomes.filter((o) => o.outcome === 'handled').length;
      refused += outcomes.filter((o) => o.outcome === 'refused').length;
      return rows.rows.length;
    });
  }

  return {
    stats: () => ({ handled, refused }),
    /** Apply everything `store` has waiting, while `stillMine()` holds. */
    async drain(store: string, stillMine: () => boolean): Promise<number> {
      let total = 0;
      while (stillMine()) {
        const n = await batch(store);
        total += n;
        if (n < BATCH) break;
      }
      return total;
    },
  };
}
