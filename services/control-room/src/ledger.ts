import {
  EVENT_NAMES,
  idFromBytes,
  parseEvent,
  type Db,
  type EventName,
  type ProductCatalog,
  type TopicRoot,
} from '@spectrum-grocers/shared';
import { createTracer, safeJson, type TraceNode } from './trace.js';

/**
 * An event_id is unique within its kind only (each publisher makes its own; an arrival and a
 * departure may share one), so an event is kept under (event_id, event): event_id first, so
 * that the key also finds every kind under one id. Until that was so, events were kept in
 * `events`, keyed by event_id alone; `migrateFromEventsTable` moves them here.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS event_log (
  event_id     TEXT NOT NULL,
  event        TEXT NOT NULL,
  topic        TEXT NOT NULL,
  causation_id TEXT,
  valid        INTEGER NOT NULL,
  timestamp    TEXT,
  received_at  TEXT NOT NULL,
  payload      TEXT NOT NULL,
  PRIMARY KEY (event_id, event)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_log_by_cause ON event_log (causation_id) WHERE causation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS event_log_by_kind ON event_log (event, received_at);

CREATE TABLE IF NOT EXISTS stock (
  product_id INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  quantity   INTEGER NOT NULL,
  threshold  INTEGER NOT NULL
);
`;

/** What one message on the store's topics is, to the control room. */
export type Kind =
  | { kind: 'event'; event: EventName }
  | { kind: 'status'; service: string }
  | { kind: 'dead-letter'; service: string }
  | { kind: 'other' };

export function classify(root: TopicRoot, topic: string): Kind {
  const prefix = `${root.chain}/${root.store}/`;
  if (!topic.startsWith(prefix)) return { kind: 'other' };
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length === 1 && (EVENT_NAMES as string[]).includes(rest[0]!)) {
    return { kind: 'event', event: rest[0] as EventName };
  }
  if (rest.length === 2 && rest[0] === 'status') return { kind: 'status', service: rest[1]! };
  if (rest.length === 2 && rest[0] === 'dead-letter') return { kind: 'dead-letter', service: rest[1]! };
  return { kind: 'other' };
}

export interface StoredEvent {
  event_id: string;
  event: string;
  topic: string;
  causation_id: string | null;
  valid: number;
  timestamp: string | null;
  received_at: string;
  payload: string;
}

export interface StockRow {
  product_id: number;
  name: string;
  quantity: number;
  threshold: number;
}

export interface Ledger {
  /**
   * Keep one business event or dead letter (once per kind and event_id) and follow the stock. Returns
   * whether it was new. Never throws on bad input: an event that fails its schema is kept as
   * received, marked invalid.
   */
  record(kind: Exclude<Kind, { kind: 'status' | 'other' }>, topic: string, bytes: Buffer): boolean;
  stock(): StockRow[];
  recentPayments(limit: number): unknown[];
  deadLetters(): { total: number; byService: Record<string, number> };
  eventCount(): number;
  /** The event of kind `event` kept under `eventId`. */
  get(event: string, eventId: string): StoredEvent | undefined;
  /** The events kept under `eventId` (of kind `event`, when given): several when kinds share the id. */
  find(eventId: string, event?: string): StoredEvent[];
  /** The causal chain of one event: from its first cause down to everything it caused. */
  trace(event: string, eventId: string): TraceNode | undefined;
}

/** How much of an oversized message is kept (it is kept, marked invalid, not parsed). */
const KEPT_OF_OVERSIZED = 16 * 1024;

/** A database from before events were keyed by kind: move its `events` into `event_log`, in one transaction. */
function migrateFromEventsTable(db: Db): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get()) return;
  db.transaction(() => {
    db.exec(`INSERT OR IGNORE INTO event_log (event_id, event, topic, causation_id, valid, timestamp, received_at, payload)
      SELECT event_id, event, topic, causation_id, valid, timestamp, received_at, payload FROM events;
      DROP TABLE events;`);
  })();
}

/** The control room's SQLite store: every event of the store with its cause, and the stock it implies. */
export function createLedger(db: Db, catalog: ProductCatalog, maxPayloadBytes = 256 * 1024): Ledger {
  migrateFromEventsTable(db);
  const seed = db.prepare('INSERT OR IGNORE INTO stock (product_id, name, quantity, threshold) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const p of catalog.products) seed.run(p.id, p.name, p.starting_stock, p.restock_threshold);
  })();
  const insert = db.prepare(
    `INSERT OR IGNORE INTO event_log (event_id, event, topic, causation_id, valid, timestamp, received_at, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const take = db.prepare('UPDATE stock SET quantity = max(0, quantity - ?) WHERE product_id = ?');
  const setLevel = db.prepare('UPDATE stock SET quantity = ? WHERE product_id = ?');
  const byId = db.prepare<[string], StoredEvent>('SELECT * FROM event_log WHERE event_id = ? ORDER BY event');
  const byKey = db.prepare<[string, string], StoredEvent>('SELECT * FROM event_log WHERE event_id = ? AND event = ?');
  const trace = createTracer(db, { byId: (id) => byId.all(id), byKey: (id, event) => byKey.get(id, event) });

  // Counted once, then kept up to date: the dashboard asks every second.
  let events = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM event_log').get()!.n;
  const record = db.transaction(
    (kind: Exclude<Kind, { kind: 'status' | 'other' }>, topic: string, bytes: Buffer): boolean => {
      const text = bytes.toString('utf8');
      const at = new Date().toISOString();
      if (kind.kind === 'dead-letter') {
        const letter = safeJson(text) as { event_id?: unknown; timestamp?: unknown } | undefined;
        const id = typeof letter?.event_id === 'string' ? letter.event_id : idFromBytes(bytes);
        const ts = typeof letter?.timestamp === 'string' ? letter.timestamp : null;
        return insert.run(id, 'dead-letter', topic, null, 1, ts, at, text).changes === 1;
      }
      if (bytes.length > maxPayloadBytes) {
        const kept = bytes.subarray(0, KEPT_OF_OVERSIZED).toString('utf8');
        return insert.run(idFromBytes(bytes), kind.event, topic, null, 0, null, at, kept).changes === 1;
      }
      const parsed = parseEvent(kind.event, bytes);
      if (!parsed.ok) {
        return insert.run(idFromBytes(bytes), kind.event, topic, null, 0, null, at, text).changes === 1;
      }
      const e = parsed.value as {
        event_id: string;
        timestamp: string;
        causation_id?: string;
        departure_event_id?: string;
      };
      // An original publisher's payment-due names its departure but has no causation_id.
      const cause = e.causation_id ?? e.departure_event_id ?? null;
      if (insert.run(e.event_id, kind.event, topic, cause, 1, e.timestamp, at, text).changes === 0) return false;
      if (kind.event === 'customer-departure') {
        const counts = new Map<number, number>();
        for (const id of (parsed.value as { product_ids: number[] }).product_ids)
          counts.set(id, (counts.get(id) ?? 0) + 1);
        for (const [id, n] of counts) take.run(n, id);
      } else if (kind.event === 'restock-alert') {
        // inventory-intel's own count, the authority on its shelves.
        const a = parsed.value as { item_id: number; quantity: number };
        setLevel.run(a.quantity, a.item_id);
      }
      return true;
    },
  );

  return {
    record(kind, topic, bytes) {
      const added = record(kind, topic, bytes);
      if (added) events++;
      return added;
    },
    stock: () =>
      db.prepare<[], StockRow>('SELECT product_id, name, quantity, threshold FROM stock ORDER BY product_id').all(),
    recentPayments: (limit) =>
      db
        .prepare<[number], { payload: string }>(
          "SELECT payload FROM event_log WHERE event = 'payment-due' AND valid = 1 ORDER BY received_at DESC, event_id LIMIT ?",
        )
        .all(limit)
        .map((r) => safeJson(r.payload)),
    deadLetters() {
      const rows = db
        .prepare<[], { topic: string; n: number }>(
          "SELECT topic, count(*) AS n FROM event_log WHERE event = 'dead-letter' GROUP BY topic",
        )
        .all();
      const byService = Object.fromEntries(rows.map((r) => [r.topic.split('/').pop()!, r.n]));
      return { total: rows.reduce((n, r) => n + r.n, 0), byService };
    },
    eventCount: () => events,
    get: (event, eventId) => byKey.get(eventId, event),
    find: (eventId, event) => (event === undefined ? byId.all(eventId) : byKey.all(eventId, event)),
    trace,
  };
}
