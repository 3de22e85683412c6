import type { Bus } from './bus.js';
import { toAppError } from './errors.js';
import type { Logger } from './logger.js';
import type { Db } from './store.js';
import { sleep } from './timers.js';

/** An event to publish once the transaction that produced it has committed. */
export interface Outgoing {
  readonly topic: string;
  readonly eventId: string;
  readonly payload: object;
  readonly retain?: boolean;
}

export interface Outbox {
  /**
   * Record events (in the caller's transaction, if any); the same `eventId` twice is stored
   * once. Returns how many were new.
   */
  enqueue(events: readonly Outgoing[]): number;
  /** Publish what is pending (after a commit, on connect, at start). */
  kick(): void;
  /** Rows not yet acknowledged by the broker. */
  pendingCount(): number;
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
 */
export function createOutbox(db: Db, bus: Bus, log: Logger): Outbox {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO outbox (event_id, topic, payload, retain, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const selectPending = db.prepare<[number, number], { seq: number; topic: string; payload: string; retain: number }>(
    'SELECT seq, topic, payload, retain FROM outbox WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?',
  );
  const countPending = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL');
  const update = db.prepare('UPDATE outbox SET sent_at = ? WHERE seq = ?');
  const markSent = db.transaction((seqs: number[], at: string) => {
    for (const seq of seqs) update.run(at, seq);
  });

  const inFlight = new Set<number>();
  let cursor = 0; // highest seq handed to MQTT.js in this connection's lifetime
  let acked: number[] = [];
  let flushScheduled = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let stopped = false;

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

  function onAck(seq: number, err?: Error): void {
    inFlight.delete(seq);
    if (err) {
      cursor = Math.min(cursor, seq - 1);
      if (!stopped) log.warn({ err: toAppError(err), seq }, 'outbox publish failed; will retry');
    } else {
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
    if (stopped || !bus.isConnected()) return;
    while (inFlight.size < MAX_IN_FLIGHT) {
      const rows = selectPending.all(cursor, MAX_IN_FLIGHT - inFlight.size);
      if (rows.length === 0) return;
      for (const row of rows) {
        cursor = row.seq;
        if (inFlight.has(row.seq)) continue;
        inFlight.add(row.seq);
        bus.client.publish(row.topic, row.payload, { qos: 1, retain: row.retain === 1 }, (err) => onAck(row.seq, err));
      }
    }
  }

  const onConnect = (): void => {
    // A new connection: MQTT.js resends what it had in flight; we resume after it.
    kick();
  };
  bus.client.on('connect', onConnect);

  return {
    enqueue(events) {
      const at = new Date().toISOString();
      let added = 0;
      for (const e of events)
        added += insert.run(e.eventId, e.topic, JSON.stringify(e.payload), e.retain ? 1 : 0, at).changes;
      return added;
    },
    kick,
    pendingCount: () => countPending.get()?.n ?? 0,
    async drain(ms) {
      const deadline = Date.now() + ms;
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
      bus.client.off('connect', onConnect);
      flushAcks();
    },
  };
}
