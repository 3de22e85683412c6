import {
  EVENT_NAMES,
  idFromBytes,
  parseEvent,
  type Db,
  type EventName,
  type ProductCatalog,
  type TopicRoot,
} from '@spectrum-grocers/shared';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  event_id     TEXT PRIMARY KEY,
  event        TEXT NOT NULL,
  topic        TEXT NOT NULL,
  causation_id TEXT,
  valid        INTEGER NOT NULL,
  timestamp    TEXT,
  received_at  TEXT NOT NULL,
  payload      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_cause ON events (causation_id) WHERE causation_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_kind ON events (event, received_at);

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
   * Keep one business event or dead letter (once per event_id) and follow the stock. Returns
   * whether it was new. Never throws on bad input: an event that fails its schema is kept as
   * received, marked invalid.
   */
  record(kind: Exclude<Kind, { kind: 'status' | 'other' }>, topic: string, bytes: Buffer): boolean;
  stock(): StockRow[];
  recentPayments(limit: number): unknown[];
  deadLetters(): { total: number; byService: Record<string, number> };
  eventCount(): number;
  get(eventId: string): StoredEvent | undefined;
  /** The causal chain of an event: from its first cause down to everything it caused. */
  trace(eventId: string): TraceNode | undefined;
}

export interface TraceNode {
  event_id: string;
  event: string;
  timestamp: string | null;
  payload: unknown;
  /** True for the event asked about. */
  asked: boolean;
  effects: TraceNode[];
}

/** How much of an oversized message is kept (it is kept, marked invalid, not parsed). */
const KEPT_OF_OVERSIZED = 16 * 1024;
const MAX_TRACE_DEPTH = 20;
const MAX_TRACE_NODES = 1000;

/** The control room's SQLite store: every event of the store with its cause, and the stock it implies. */
export function createLedger(db: Db, catalog: ProductCatalog, maxPayloadBytes = 256 * 1024): Ledger {
  const seed = db.prepare('INSERT OR IGNORE INTO stock (product_id, name, quantity, threshold) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const p of catalog.products) seed.run(p.id, p.name, p.starting_stock, p.restock_threshold);
  })();
  const insert = db.prepare(
    `INSERT OR IGNORE INTO events (event_id, event, topic, causation_id, valid, timestamp, received_at, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const take = db.prepare('UPDATE stock SET quantity = max(0, quantity - ?) WHERE product_id = ?');
  const setLevel = db.prepare('UPDATE stock SET quantity = ? WHERE product_id = ?');
  const byId = db.prepare<[string], StoredEvent>('SELECT * FROM events WHERE event_id = ?');
  const byCause = db.prepare<[string], StoredEvent>(
    'SELECT * FROM events WHERE causation_id = ? ORDER BY received_at, event_id',
  );

  // Counted once, then kept up to date: the dashboard asks every second.
  let events = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events').get()!.n;
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

  function node(row: StoredEvent, asked: string, budget: { left: number }, depth: number): TraceNode {
    budget.left--;
    const effects =
      depth >= MAX_TRACE_DEPTH
        ? []
        : byCause
            .all(row.event_id)
            .filter(() => budget.left > 0)
            .map((child) => node(child, asked, budget, depth + 1));
    return {
      event_id: row.event_id,
      event: row.event,
      timestamp: row.timestamp,
      payload: safeJson(row.payload),
      asked: row.event_id === asked,
      effects,
    };
  }

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
          "SELECT payload FROM events WHERE event = 'payment-due' AND valid = 1 ORDER BY received_at DESC, event_id LIMIT ?",
        )
        .all(limit)
        .map((r) => safeJson(r.payload)),
    deadLetters() {
      const rows = db
        .prepare<[], { topic: string; n: number }>(
          "SELECT topic, count(*) AS n FROM events WHERE event = 'dead-letter' GROUP BY topic",
        )
        .all();
      const byService = Object.fromEntries(rows.map((r) => [r.topic.split('/').pop()!, r.n]));
      return { total: rows.reduce((n, r) => n + r.n, 0), byService };
    },
    eventCount: () => events,
    get: (eventId) => byId.get(eventId),
    trace(eventId) {
      let row = byId.get(eventId);
      if (!row) return undefined;
      for (let depth = 0; row.causation_id && depth < MAX_TRACE_DEPTH; depth++) {
        const parent = byId.get(row.causation_id);
        if (!parent) break;
        row = parent;
      }
      return node(row, eventId, { left: MAX_TRACE_NODES }, 0);
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
