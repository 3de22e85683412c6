import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deriveEventId, eventTopic } from '@spectrum-grocers/contract';
import { loadProductCatalog, openDatabase } from '@spectrum-grocers/runtime';
import { tempDatabase } from '@spectrum-grocers/testkit';
import { createLedger, SCHEMA, type Ledger } from './ledger.js';

const root = { chain: 'spectrum-grocers', store: 'cr-test' };
const catalog = loadProductCatalog();
const at = '2026-11-22T10:00:00.000Z';
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const departure = (id: string, product_ids: number[]) =>
  json({ event_id: id, timestamp: at, customer_id: 1, product_ids });
const record = (ledger: Ledger, event: Parameters<typeof eventTopic>[1], bytes: Buffer) =>
  ledger.record({ kind: 'event', event }, eventTopic(root, event), bytes);

describe('control room ledger', () => {
  let db: ReturnType<typeof tempDatabase>;
  let ledger: Ledger;
  beforeEach(() => {
    db = tempDatabase('control-room', SCHEMA);
    ledger = createLedger(db.db, catalog);
  });
  afterEach(() => db.close());

  it('keeps each event once, and takes a departure off the stock once', () => {
    const start = ledger.stock().find((s) => s.product_id === 3)!.quantity;
    expect(record(ledger, 'customer-departure', departure('d-1', [3, 3]))).toBe(true);
    expect(record(ledger, 'customer-departure', departure('d-1', [3, 3]))).toBe(false);
    expect(ledger.stock().find((s) => s.product_id === 3)!.quantity).toBe(start - 2);
    expect(ledger.eventCount()).toBe(1);
  });

  it("takes inventory-intel's count from a restock alert", () => {
    record(ledger, 'restock-alert', json({ event_id: 'r-1', timestamp: at, item_id: 9, quantity: 2, threshold: 5 }));
    expect(ledger.stock().find((s) => s.product_id === 9)).toMatchObject({ quantity: 2 });
  });

  it('keeps an event that fails its schema, marked invalid, without touching the stock', () => {
    const before = ledger.stock();
    expect(record(ledger, 'customer-departure', Buffer.from('{"customer_id": "x"'))).toBe(true);
    expect(ledger.stock()).toEqual(before);
    expect(ledger.eventCount()).toBe(1);
  });

  it('keeps only the head of an oversized message, marked invalid, and never parses it', () => {
    const small = createLedger(db.db, catalog, 1024);
    const huge = Buffer.from(JSON.stringify({ timestamp: at, customer_id: 1, product_ids: Array(50_000).fill(1) }));
    expect(record(small, 'customer-departure', huge)).toBe(true);
    const row = db.db
      .prepare<[], { valid: number; size: number }>('SELECT valid, length(payload) AS size FROM event_log')
      .get()!;
    expect(row).toEqual({ valid: 0, size: 16 * 1024 });
    expect(small.stock().find((s) => s.product_id === 1)!.quantity).toBe(catalog.get(1)!.starting_stock);
  });

  it('counts dead letters by service', () => {
    const letter = (id: string) => json({ event_id: id, timestamp: at, service: 'fastlane-finale', reason: 'bad' });
    const topic = 'spectrum-grocers/cr-test/dead-letter/fastlane-finale';
    ledger.record({ kind: 'dead-letter', service: 'fastlane-finale' }, topic, letter('x-1'));
    ledger.record({ kind: 'dead-letter', service: 'fastlane-finale' }, topic, letter('x-1'));
    ledger.record({ kind: 'dead-letter', service: 'fastlane-finale' }, topic, letter('x-2'));
    expect(ledger.deadLetters(10)).toMatchObject({ total: 2, byService: { 'fastlane-finale': 2 } });
  });

  it('keeps a dead letter under the id and time it names, whatever their form', () => {
    const topic = 'spectrum-grocers/cr-test/dead-letter/fastlane-finale';
    const letter = json({ event_id: 'abc 1/odd', timestamp: '2026-01-01 10:00:00', reason: 'bad' });
    ledger.record({ kind: 'dead-letter', service: 'fastlane-finale' }, topic, letter);
    expect(ledger.get('dead-letter', 'abc 1/odd')).toMatchObject({ timestamp: '2026-01-01 10:00:00' });
  });

  // inventory-intel refuses such a departure whole (dead-letter): the view of its shelves must too.
  it('takes nothing off the stock for a basket with a product the catalog does not know', () => {
    const start = ledger.stock().find((s) => s.product_id === 3)!.quantity;
    expect(record(ledger, 'customer-departure', departure('d-mixed', [3, 9999]))).toBe(true);
    expect(ledger.stock().find((s) => s.product_id === 3)!.quantity).toBe(start);
  });

  it('traces a chain from any of its events: departure -> payment-due and restock-alert', () => {
    record(ledger, 'customer-departure', departure('d-7', [7]));
    const paymentId = deriveEventId('payment-due', 'd-7');
    record(
      ledger,
      'payment-due',
      json({ event_id: paymentId, causation_id: 'd-7', timestamp: at, customer_id: 1, amount: 1.5, amount_cents: 150 }),
    );
    record(
      ledger,
      'restock-alert',
      json({ event_id: 'alert-7', causation_id: 'd-7', timestamp: at, item_id: 7, quantity: 4, threshold: 5 }),
    );
    const trace = ledger.trace('payment-due', paymentId)!;
    expect(trace.event_id).toBe('d-7');
    expect(trace.asked).toBe(false);
    expect(trace.effects.map((e) => [e.event, e.event_id, e.asked]).sort()).toEqual(
      [
        ['payment-due', paymentId, true],
        ['restock-alert', 'alert-7', false],
      ].sort(),
    );
    expect(ledger.trace('payment-due', 'nope')).toBeUndefined();
    expect(ledger.trace('customer-arrival', 'd-7')).toBeUndefined();
  });

  it("links an original publisher's payment-due to its departure by departure_event_id", () => {
    record(ledger, 'customer-departure', departure('d-8', [8]));
    record(
      ledger,
      'payment-due',
      json({ event_id: 'p-8', departure_event_id: 'd-8', timestamp: at, customer_id: 1, amount: 2 }),
    );
    expect(ledger.trace('customer-departure', 'd-8')!.effects.map((e) => e.event_id)).toEqual(['p-8']);
  });

  it('keeps an arrival and a departure that share an event_id apart, and traces the payment under the departure, not the arrival', () => {
    const start = ledger.stock().find((s) => s.product_id === 4)!.quantity;
    record(ledger, 'customer-arrival', json({ event_id: 'same-1', timestamp: at, customer_id: 1 }));
    expect(record(ledger, 'customer-departure', departure('same-1', [4]))).toBe(true);
    expect(ledger.stock().find((s) => s.product_id === 4)!.quantity).toBe(start - 1);
    const paymentId = deriveEventId('payment-due', 'same-1');
    const payment = {
      event_id: paymentId,
      causation_id: 'same-1',
      timestamp: at,
      customer_id: 1,
      amount: 1,
      amount_cents: 100,
    };
    record(ledger, 'payment-due', json(payment));
    const welcome = {
      event_id: 'w-1',
      causation_id: 'same-1',
      timestamp: at,
      customer_id: 1,
      name: 'Dave',
      message: 'Welcome, Dave',
    };
    record(ledger, 'display-welcome', json(welcome));
    expect(ledger.eventCount()).toBe(4);

    const fromPayment = ledger.trace('payment-due', paymentId)!;
    expect([fromPayment.event, fromPayment.event_id]).toEqual(['customer-departure', 'same-1']);
    expect(fromPayment.effects.map((e) => [e.event, e.asked])).toEqual([['payment-due', true]]);
    const fromArrival = ledger.trace('customer-arrival', 'same-1')!;
    expect(fromArrival.asked).toBe(true);
    expect(fromArrival.effects.map((e) => e.event)).toEqual(['display-welcome']);
    expect(ledger.trace('display-welcome', 'w-1')!.event).toBe('customer-arrival');
    expect(
      ledger
        .find('same-1')
        .map((e) => e.event)
        .sort(),
    ).toEqual(['customer-arrival', 'customer-departure']);
    expect(ledger.find('same-1', 'customer-departure').map((e) => e.event)).toEqual(['customer-departure']);
  });

  it('opens a database kept before events were keyed by kind, keeping its events and their chains', () => {
    const old = tempDatabase('control-room', SCHEMA_KEYED_BY_ID_ALONE);
    const insert = old.db.prepare(
      `INSERT INTO events (event_id, event, topic, causation_id, valid, timestamp, received_at, payload)
       VALUES (?, ?, 'spectrum-grocers/cr-test/' || ?, ?, 1, ?, ?, ?)`,
    );
    insert.run('d-9', 'customer-departure', 'customer-departure', null, at, at, '{"event_id":"d-9"}');
    insert.run('p-9', 'payment-due', 'payment-due', 'd-9', at, at, '{"event_id":"p-9"}');
    old.db.close();
    const reopened = openDatabase({ dataDir: old.dir, service: 'control-room', dbSynchronous: 'normal' }, SCHEMA);
    try {
      const migrated = createLedger(reopened, catalog);
      expect(migrated.eventCount()).toBe(2);
      expect(migrated.trace('payment-due', 'p-9')!.effects.map((e) => e.event_id)).toEqual(['p-9']);
      expect(record(migrated, 'customer-arrival', json({ event_id: 'd-9', timestamp: at, customer_id: 1 }))).toBe(true);
      const tables = reopened
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all();
      expect(tables.map((t) => t.name)).not.toContain('events');
    } finally {
      reopened.close();
      rmSync(old.dir, { recursive: true, force: true });
    }
  });
});

/** The control room's table before events were keyed by (event, event_id): by event_id alone. */
const SCHEMA_KEYED_BY_ID_ALONE = `
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
`;
