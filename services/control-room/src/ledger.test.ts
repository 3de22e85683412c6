import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deriveEventId, eventTopic, loadProductCatalog } from '@spectrum-grocers/shared';
import { tempDatabase } from '@spectrum-grocers/testkit';
import { classify, createLedger, SCHEMA, type Ledger } from './ledger.js';

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

  it('tells events, statuses and dead letters of its store apart', () => {
    expect(classify(root, 'spectrum-grocers/cr-test/payment-due')).toEqual({ kind: 'event', event: 'payment-due' });
    expect(classify(root, 'spectrum-grocers/cr-test/status/hello-helper')).toEqual({
      kind: 'status',
      service: 'hello-helper',
    });
    expect(classify(root, 'spectrum-grocers/cr-test/dead-letter/fastlane-finale')).toEqual({
      kind: 'dead-letter',
      service: 'fastlane-finale',
    });
    expect(classify(root, 'spectrum-grocers/other-store/payment-due')).toEqual({ kind: 'other' });
    expect(classify(root, 'spectrum-grocers/cr-test/payment-due/extra')).toEqual({ kind: 'other' });
  });

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
      .prepare<[], { valid: number; size: number }>('SELECT valid, length(payload) AS size FROM events')
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
    expect(ledger.deadLetters()).toEqual({ total: 2, byService: { 'fastlane-finale': 2 } });
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
    const trace = ledger.trace(paymentId)!;
    expect(trace.event_id).toBe('d-7');
    expect(trace.asked).toBe(false);
    expect(trace.effects.map((e) => [e.event, e.event_id, e.asked]).sort()).toEqual(
      [
        ['payment-due', paymentId, true],
        ['restock-alert', 'alert-7', false],
      ].sort(),
    );
    expect(ledger.trace('nope')).toBeUndefined();
  });

  it("links an original publisher's payment-due to its departure by departure_event_id", () => {
    record(ledger, 'customer-departure', departure('d-8', [8]));
    record(
      ledger,
      'payment-due',
      json({ event_id: 'p-8', departure_event_id: 'd-8', timestamp: at, customer_id: 1, amount: 2 }),
    );
    expect(ledger.trace('d-8')!.effects.map((e) => e.event_id)).toEqual(['p-8']);
  });
});
