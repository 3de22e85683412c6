import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, type Event } from '@spectrum-grocers/contract';
import { loadProductCatalog, uniqueOn } from '@spectrum-grocers/runtime';
import { quietLogger, tempDatabase } from '@spectrum-grocers/testkit';
import { createDepartureHandler, migrate, paymentIdFor, priceBasket, SCHEMA } from './customer-departure.js';

const catalog = loadProductCatalog();
// The catalog's prices, as a store bills before the head office changes any.
const catalogPrices = { priceOf: (id: number) => catalog.get(id)?.price_cents };
const now = new Date('2026-11-22T10:00:00Z');

function departure(product_ids: number[], event_id = 'dep-1'): Event<'customer-departure'> {
  return { event_id, timestamp: now.toISOString(), customer_id: 4, product_ids };
}

describe('fastlane-finale: customer-departure', () => {
  let store: ReturnType<typeof tempDatabase>;
  let handle: ReturnType<typeof createDepartureHandler>;
  beforeEach(() => {
    store = tempDatabase('fastlane-finale', SCHEMA);
    handle = createDepartureHandler({ db: store.db, prices: catalogPrices, clock: () => now, log: quietLogger() });
  });
  afterEach(() => store.close());

  it('prices a basket from the catalog in integer cents, counting repeats', () => {
    const milk = catalog.get(1)!.price_cents;
    const pasta = catalog.get(16)!.price_cents;
    expect(priceBasket([1, 16, 1], catalogPrices)).toBe(2 * milk + pasta);
  });

  it('adds cents without floating-point drift', () => {
    // 0.1 + 0.2 style drift would show up summing many prices as floats.
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    const cents = priceBasket(ids, catalogPrices);
    expect(cents).toBe(catalog.products.reduce((sum, p) => sum + p.price_cents, 0));
  });

  it('publishes payment-due with the original fields and ours, and records the bill', () => {
    const [out, ...rest] = handle(departure([1, 16, 1]));
    expect(rest).toHaveLength(0);
    const cents = priceBasket([1, 16, 1], catalogPrices);
    expect(out!.event).toBe('payment-due');
    expect(out!.payload).toEqual({
      event_id: paymentIdFor('dep-1'),
      departure_event_id: 'dep-1',
      causation_id: 'dep-1',
      timestamp: now.toISOString(),
      customer_id: 4,
      amount: cents / 100,
      amount_cents: cents,
    });
    expect(store.db.prepare('SELECT amount_cents, item_count FROM bills').all()).toEqual([
      { amount_cents: cents, item_count: 3 },
    ]);
  });

  it('derives the payment id from the departure id, so a redelivery cannot mint a second payment', () => {
    expect(paymentIdFor('dep-1')).toBe(paymentIdFor('dep-1'));
    expect(paymentIdFor('dep-1')).not.toBe(paymentIdFor('dep-2'));
    handle(departure([1]));
    // A second bill for the same departure violates the bills table's uniqueness.
    expect(() => handle(departure([1]))).toThrow(/UNIQUE/);
  });

  it('refuses a basket with products the catalog does not know, naming them', () => {
    let error: unknown;
    try {
      handle(departure([1, 404, 999]));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'UNKNOWN_PRODUCT', retryable: false });
    expect((error as Error).message).toContain('404, 999');
  });
});

describe('fastlane-finale: bills of an earlier version', () => {
  it('moves a rowid table with a unique departure_event_id to the one-key table, every bill kept', () => {
    const old = tempDatabase(
      'fastlane-finale',
      `CREATE TABLE bills (
        payment_event_id TEXT PRIMARY KEY, departure_event_id TEXT NOT NULL UNIQUE,
        customer_id INTEGER NOT NULL, amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
        item_count INTEGER NOT NULL, created_at TEXT NOT NULL);
      CREATE INDEX bills_by_customer ON bills (customer_id, created_at);
      INSERT INTO bills VALUES ('${paymentIdFor('dep-1')}', 'dep-1', 4, 467, 3, 'then');`,
    );
    try {
      migrate(old.db);
      old.db.exec(SCHEMA);
      expect(uniqueOn(old.db, 'bills', 'departure_event_id')).toBeUndefined();
      expect(old.db.prepare("SELECT wr FROM pragma_table_list WHERE name = 'bills'").get()).toEqual({ wr: 1 });
      expect(old.db.prepare("SELECT name FROM pragma_index_list('bills') WHERE origin = 'c'").all()).toEqual([
        { name: 'bills_by_customer' },
      ]);
      const handle = createDepartureHandler({
        db: old.db,
        prices: catalogPrices,
        clock: () => now,
        log: quietLogger(),
      });
      // The same departure again is still one bill: its payment id is the key.
      expect(() => handle(departure([1, 2, 3]))).toThrow(/UNIQUE/);
      handle(departure([1], 'dep-2'));
      expect(old.db.prepare('SELECT departure_event_id, amount_cents FROM bills ORDER BY created_at').all()).toEqual([
        { departure_event_id: 'dep-2', amount_cents: priceBasket([1], catalogPrices) },
        { departure_event_id: 'dep-1', amount_cents: 467 },
      ]);
      migrate(old.db); // once moved, nothing more to do
    } finally {
      old.close();
    }
  });
});
