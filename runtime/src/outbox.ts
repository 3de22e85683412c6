import {
  AppError,
  EVENT_NAMES,
  eventTopic,
  toAppError,
  type EventMessage,
  type EventName,
} from '@spectrum-grocers/contract';
import type { Bus } from './bus.js';
import { immediateDurability, type Durability } from './commit.js';
import type { Logger } from './logger.js';
import { uniqueOn, type Db } from './store.js';
import { sleep } from './timers.js';

/** An event to publish once the transaction that produced it has committed. */
export type Outgoing = {
  readonly topic: string;
  readonly eventId: string;
  readonly retain?: boolean;
} & (
  | { readonly payload: object }
  /** JSON text published as it is, byte for byte: a message forwarded from another broker. */
  | { readonly json: string }
);

export interface Outbox {
  /**
   * Record events to publish on their catalog topics (in the caller's transaction, if any).
   * Returns how many were stored. With `keyedByEventId`, the same `event_id` twice is stored
   * once; otherwise each event must be new (a consumer's are: each derives from an input claimed
   * once, in the same transaction). An event the service did not declare it publishes is a bug:
   * it throws, and nothing is recorded.
   */
  emit(events: readonly EventMessage[]): number;
  /** Record messages on any topic (dead letters, forwarded messages), each retained or not; as `emit`. */
  enqueue(rows: readonly Outgoing[]): number;
  /** Whether the service's schema has OUTBOX_BY_EVENT_ID: one row per `event_id`, found by it. */
  readonly keyedByEventId: boolean;
  /**
   * The event stored under `eventId`, pending or sent, as it is published (payload as JSON text).
   * Without `keyedByEventId` it reads the whole table.
   */
  get(eventId: string): { topic: string; payload: string } | undefined;
  /** The payload (JSON text) of the last `event` the broker acknowledged, e.g. before a restart. */
  lastPublished(event: EventName): string | undefined;
  /** Publish what is pending (after a commit, on connect, at start). */
  kick(): void;
  /** Rows not yet acknowledged by the broker. */
  pendingCount(): number;
  /** Call `listener` with each event the broker acknowledged (again, for one published again). */
  onPublished(listener: (topic: string, payload: string) => void): void;
  /** Wait until nothing is pending or in flight, at most `ms`; resolves to whether it drained. */
  drain(ms: number): Promise<boolean>;
  stop(): void;
}

const MAX_IN_FLIGHT = 256;
/**
 * Marking rows sent is batched: under DB_SYNCHRONOUS=full every commit is an fsync, and a mark
 * lost in a crash only means that row is published again (consumers drop it by event_id).
 */
const MARK_SENT_EVERY_MS = 50;

/**
 * The transactional outbox: handlers write their outgoing events into SQLite in the same
 * transaction as the state change; this relay publishes them at QoS 1 and marks each sent on
 * PUBACK. After a crash, whatever was not acknowledged is published again at start.
 *
 * A PUBACK only means the broker has the message in memory: a broker killed before its next
 * save loses what it acknowledged since the last one. So after a lost connection the relay
 * publishes again what was acknowledged within OUTBOX_RESEND_WINDOW_MS before it dropped;
 * consumers drop the copies by event_id.
 */
export function createOutbox(
  db: Db,
  bus: Bus,
  log: Logger,
  publishes: readonly EventName[] = EVENT_NAMES,
  durability: Durability = immediateDurability(),
): Outbox {
  const topics = new Map(publishes.map((e) => [e, eventTopic(bus.config.topics, e)]));
  const insert = db.prepare(
    'INSERT OR IGNORE INTO outbox (event_id, topic, payload, retain, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const selectPending = db.prepare<[number, number], { seq: number; topic: string; payload: string; retain: number }>(
    'SELECT seq, topic, payload, retain FROM outbox WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?',
  );
  const selectById = db.prepare<[string], { topic: string; payload: string }>(
    'SELECT topic, payload FROM outbox WHERE event_id = ?',
  );
  const selectLastSent = db.prepare<[string], { payload: string }>(
    'SELECT payload FROM outbox WHERE topic = ? AND sent_at IS NOT NULL ORDER BY seq DESC LIMIT 1',
  );
  const newest = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM outbox');
  const countPending = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL');
  const update = db.prepare('UPDATE outbox SET sent_at = ? WHERE seq = ?');
  const markSent = db.transaction((seqs: number[], at: string) => {
    for (const seq of seqs) update.run(at, seq);
  });
  // Walks back from the newest row, so it reads only the rows of the window.
  const lastSentBefore = db.prepare<[string], { seq: number }>(
    'SELECT seq FROM outbox WHERE sent_at < ? ORDER BY seq DESC LIMIT 1',
  );
  const reopen = db.prepare('UPDATE outbox SET sent_at = NULL WHERE seq > ? AND sent_at >= ?');
  const resendWindowMs = bus.config.outboxResendWindowMs;

  const inFlight = new Set<number>();
  const listeners: Array<(topic: string, payload: string) => void> = [];
  let cursor = 0; // highest seq handed to MQTT.js in this connection's lifetime
  let acked: number[] = [];
  let flushScheduled = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let droppedAt = 0; // when the connection was lost (0: connected, or never connected)
  // Rows up to here are on disk: only those are published, so nothing is seen that a power cut
  // could take back. Each sync covers the rows committed before it started.
  let durableSeq = 0;
  let syncAsked = false;
  // Whether rows past `cursor` may wait: a kick reads the table only then (not on every PUBACK).
  let mayHaveMore = true;
  // The next row waits for a sync: nothing to publish until one ends (PUBACKs need not look).
  let waitingForSync = false;
  durability.onSync(() => {
    const covered = db.open ? (newest.get()?.seq ?? 0) : 0;
    return () => {
      durableSeq = Math.max(durableSeq, covered);
      syncAsked = false;
      waitingForSync = false;
      mayHaveMore = true;
      kick();
    };
  });

  function flushAcks(): void {
    flushScheduled = false;
    clearTimeout(flushTimer);
    const seqs = acked;
    acked = [];
    if (seqs.length === 0 || !db.open) return;
    try {
      markSent(seqs, new Date().toISOString());
    } catch (err) {
      // Unmarked rows are sent again later; consumers drop the duplicates by event_id.
      log.warn({ err: toAppError(err) }, 'could not mark outbox rows sent');
    }
  }

  function onAck(seq: number, topic: string, payload: string, err?: Error): void {
    inFlight.delete(seq);
    if (err) {
      cursor = Math.min(cursor, seq - 1);
      mayHaveMore = true;
      if (!stopped) log.warn({ err: toAppError(err), seq }, 'outbox publish failed; will retry');
    } else {
      for (const listener of listeners) {
        try {
          listener(topic, payload);
        } catch (e) {
          log.warn({ err: toAppError(e), topic }, 'a listener of published events failed');
        }
      }
      acked.push(seq);
      if (acked.length >= MAX_IN_FLIGHT) flushAcks();
      else if (!flushScheduled) {
        flushScheduled = true;
        flushTimer = setTimeout(flushAcks, MARK_SENT_EVERY_MS);
      }
    }
    if (inFlight.size < MAX_IN_FLIGHT / 2) kick();
  }

  function kick(): void {
    if (stopped || !mayHaveMore || waitingForSync || !bus.isConnected()) return;
    while (inFlight.size < MAX_IN_FLIGHT) {
      const wanted = MAX_IN_FLIGHT - inFlight.size;
      const rows = selectPending.all(cursor, wanted);
      if (rows.length < wanted) mayHaveMore = false; // unless a row below waits for its sync
      if (rows.length === 0) return;
      for (const row of rows) {
        if (row.seq > durableSeq) {
          // Committed, not yet known to be on disk: publish it after the next sync.
          mayHaveMore = true;
          waitingForSync = true;
          if (!syncAsked) {
            syncAsked = true;
            durability.durable().catch(() => (syncAsked = waitingForSync = false));
          }
          return;
        }
        cursor = row.seq;
        if (inFlight.has(row.seq)) continue;
        inFlight.add(row.seq);
        bus.send(row.topic, row.payload, { retain: row.retain === 1 }, (err) =>
          onAck(row.seq, row.topic, row.payload, err),
        );
      }
      if (!mayHaveMore) return;
    }
  }

  /** Mark pending again what the broker acknowledged since `since` (it may have lost it). */
  function resendSince(since: number): void {
    flushAcks();
    const cutoff = new Date(since).toISOString();
    try {
      const floor = lastSentBefore.get(cutoff)?.seq ?? 0;
      const count = reopen.run(floor, cutoff).changes;
      if (count === 0) return;
      cursor = 0;
      mayHaveMore = true;
      log.info(
        { count, windowMs: resendWindowMs },
        'publishing again what the broker acknowledged just before the connection dropped',
      );
    } catch (err) {
      log.warn({ err: toAppError(err) }, 'could not mark recent outbox rows for sending again');
    }
  }

  const onClose = (): void => {
    if (!stopped && droppedAt === 0) droppedAt = Date.now();
  };
  const onConnect = (): void => {
    if (droppedAt !== 0 && resendWindowMs > 0) resendSince(droppedAt - resendWindowMs);
    droppedAt = 0;
    mayHaveMore = true;
    // MQTT.js resends what it had in flight; we go on with what is pending.
    kick();
  };
  const offConnection = bus.onConnection((up) => (up ? onConnect() : onClose()));

  function enqueue(rows: readonly Outgoing[]): number {
    const at = new Date().toISOString();
    let added = 0;
    for (const e of rows)
      added += insert.run(
        e.eventId,
        e.topic,
        'json' in e ? e.json : JSON.stringify(e.payload),
        e.retain ? 1 : 0,
        at,
      ).changes;
    if (added > 0) mayHaveMore = true;
    return added;
  }

  function topicOf(event: EventName): string {
    const topic = topics.get(event);
    if (topic === undefined) {
      throw new AppError('CONTRACT_MISMATCH', `${bus.config.service} does not publish ${event} (the topic catalog)`);
    }
    return topic;
  }

  return {
    keyedByEventId: uniqueOn(db, 'outbox', 'event_id') !== undefined,
    emit: (events) =>
      enqueue(events.map((e) => ({ topic: topicOf(e.event), eventId: e.payload.event_id, payload: e.payload }))),
    enqueue,
    get: (eventId) => selectById.get(eventId),
    lastPublished: (event) => selectLastSent.get(topicOf(event))?.payload,
    kick,
    // Acknowledged rows waiting for their batched mark are not pending.
    pendingCount: () => Math.max(0, (countPending.get()?.n ?? 0) - acked.length),
    onPublished: (listener) => void listeners.push(listener),
    async drain(ms) {
      const deadline = Date.now() + ms;
      mayHaveMore = true;
      kick();
      while (Date.now() < deadline) {
        flushAcks();
        if (!bus.isConnected()) return countPending.get()?.n === 0;
        if (inFlight.size === 0 && countPending.get()?.n === 0) return true;
        await sleep(10);
      }
      return false;
    },
    stop() {
      stopped = true;
      offConnection();
      flushAcks();
    },
  };
}
