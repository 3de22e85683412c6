import { z } from 'zod';
import {
  idFromBytes,
  parseMessage,
  type EventMessage,
  type ProductCatalog,
  type TopicKind,
} from '@spectrum-grocers/contract';
import { createShelves, STOCK_SCHEMA, type StockRow } from '@spectrum-grocers/inventory-intel/stock';
import type { Db } from '@spectrum-grocers/runtime';
import { createCustomers, CUSTOMERS_SCHEMA } from './customers.js';
import { createTracer, safeJson, type TraceNode } from './trace.js';
import { createViews, type Views } from './views.js';

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
${STOCK_SCHEMA}${CUSTOMERS_SCHEMA}`;

/** What the ledger keeps: business events and dead letters (statuses live in memory). */
export type Recorded = Extract<TopicKind, { kind: 'event' | 'dead-letter' }>;

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

export interface Ledger extends Views {
  /**
   * Keep one business event or dead letter (once per kind and event_id) and follow the stock. Returns
   * whether it was new. Never throws on bad input: an event that fails its schema is kept as
   * received, marked invalid.
   */
  record(kind: Recorded, topic: string, bytes: Buffer): boolean;
  stock(): StockRow[];
  /** The name a welcome gave the customer, if one did. */
  customerName(customerId: number): string | undefined;
  eventCount(): number;
  /** The event of kind `event` kept under `eventId`. */
  get(event: string, eventId: string): StoredEvent | undefined;
  /** The events kept under `eventId` (of kind `event`, when given): several when kinds share the id. */
  find(eventId: string, event?: string): StoredEvent[];
  /** The causal chain of one event: from its first cause down to everything it caused. */
  trace(event: string, eventId: string): TraceNode | undefined;
}

/** What caused an event: its causation_id, or the departure an original publisher's payment-due names. */
function causeOf(message: EventMessage): string | null {
  switch (message.event) {
    case 'payment-due':
      return message.payload.causation_id ?? message.payload.departure_event_id ?? null;
    case 'restock-alert':
    case 'display-welcome':
    case 'stock-delivered':
      return message.payload.causation_id ?? null;
    case 'customer-arrival':
    case 'customer-departure':
      return null; // a scan starts its chain
    case 'price-change':
      return null; // so does a decision of the head office
  }
}

/** What the ledger needs of a dead letter, read leniently: a letter from another publisher may lack the rest. */
const DeadLetterHead = z.object({
  event_id: z.string().min(1).optional().catch(undefined),
  timestamp: z.string().optional().catch(undefined),
});

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
  // The stock as the events say, by inventory-intel's own rules.
  const shelves = createShelves(db);
  shelves.seed(catalog);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO event_log (event_id, event, topic, causation_id, valid, timestamp, received_at, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const byId = db.prepare<[string], StoredEvent>('SELECT * FROM event_log WHERE event_id = ? ORDER BY event');
  const byKey = db.prepare<[string, string], StoredEvent>('SELECT * FROM event_log WHERE event_id = ? AND event = ?');
  const customers = createCustomers(db);
  const trace = createTracer(db, {
    byId: (id) => byId.all(id),
    byKey: (id, event) => byKey.get(id, event),
    nameOf: customers.nameOf,
  });

  /** Keep the stock the events imply: each kind of event, one rule. */
  function follow(message: EventMessage): void {
    switch (message.event) {
      case 'customer-departure':
        // A basket with a product the catalog does not know takes nothing: inventory-intel refuses
        // the whole departure (dead-letter), and these are its rules.
        shelves.take(message.payload.product_ids);
        return;
      case 'restock-alert':
        // inventory-intel's own count, the authority on its shelves.
        shelves.set(message.payload.item_id, message.payload.quantity);
        return;
      case 'stock-delivered':
        // Once per delivery id, and never one inventory-intel refuses (another product under a known id).
        shelves.receive(message.payload, new Date());
        return;
      case 'display-welcome':
        customers.remember(message.payload.customer_id, message.payload.name);
        return;
      case 'customer-arrival':
      case 'payment-due':
      case 'price-change':
        return;
    }
  }

  // Counted once, then kept up to date: the dashboard asks every second.
  let events = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM event_log').get()!.n;
  const record = db.transaction((kind: Recorded, topic: string, bytes: Buffer): boolean => {
    const text = bytes.toString('utf8');
    const at = new Date().toISOString();
    if (kind.kind === 'dead-letter') {
      const letter = DeadLetterHead.safeParse(safeJson(text)).data;
      const id = letter?.event_id ?? idFromBytes(bytes);
      const ts = letter?.timestamp ?? null;
      return insert.run(id, 'dead-letter', topic, null, 1, ts, at, text).changes === 1;
    }
    if (bytes.length > maxPayloadBytes) {
      const kept = bytes.subarray(0, KEPT_OF_OVERSIZED).toString('utf8');
      return insert.run(idFromBytes(bytes), kind.event, topic, null, 0, null, at, kept).changes === 1;
    }
    const parsed = parseMessage(kind.event, bytes);
    if (!parsed.ok) {
      return insert.run(idFromBytes(bytes), kind.event, topic, null, 0, null, at, text).changes === 1;
    }
    const message = parsed.value;
    const e = message.payload;
    if (insert.run(e.event_id, kind.event, topic, causeOf(message), 1, e.timestamp, at, text).changes === 0)
      return false;
    follow(message);
    return true;
  });

  return {
    record(kind, topic, bytes) {
      const added = record(kind, topic, bytes);
      if (added) events++;
      return added;
    },
    stock: () => shelves.read(),
    customerName: customers.nameOf,
    ...createViews(db),
    eventCount: () => events,
    get: (event, eventId) => byKey.get(eventId, event),
    find: (eventId, event) => (event === undefined ? byId.all(eventId) : byKey.all(eventId, event)),
    trace,
  };
}
