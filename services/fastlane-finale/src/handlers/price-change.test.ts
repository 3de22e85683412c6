import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, type Event } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { quietLogger, tempDatabase } from '@spectrum-grocers/testkit';
import { createPriceBook, PRICES_SCHEMA, type PriceBook } from '../prices.js';
import { createDepartureHandler, SCHEMA } from './customer-departure.js';
import { createPriceChangeHandler } from './price-change.js';

const catalog = loadProductCatalog();
const now = new Date('2026-11-25T10:00:00Z');

function change(event_id: string, product_id: number, price_cents: number, timestamp: string): Event<'price-change'> {
  return { event_id, timestamp, product_id, price_cents };
}

describe('fastlane-finale: price-change', () => {
  let store: ReturnType<typeof tempDatabase>;
  let prices: PriceBook;
  let setPrice: ReturnType<typeof createPriceChangeHandler>;
  let bill: ReturnType<typeof createDepartureHandler>;
  beforeEach(() => {
    store = tempDatabase('fastlane-finale', SCHEMA + PRICES_SCHEMA);
    prices = createPriceBook(store.db, catalog);
    setPrice = createPriceChangeHandler({ prices, clock: () => now, log: quietLogger() });
    bill = createDepartureHandler({ db: store.db, prices, clock: () => now, log: quietLogger() });
  });
  afterEach(() => store.close());

  const billFor = (id: string, product_ids: number[]) =>
    bill({ event_id: id, timestamp: now.toISOString(), customer_id: 3, product_ids })[0]!.payload.amount_cents;

  it('bills at the new price from the change on, and at the catalog price before it', () => {
    const milk = catalog.get(1)!.price_cents;
    expect(billFor('dep-1', [1, 1])).toBe(2 * milk);
    expect(setPrice(change('pc-1', 1, 999, '2026-11-25T09:00:00Z'))).toEqual([]);
    expect(billFor('dep-2', [1, 1])).toBe(2 * 999);
    // Other products keep the catalog's price.
    expect(billFor('dep-3', [2])).toBe(catalog.get(2)!.price_cents);
    // A price of 0 is a price (a give-away), not "no price".
    setPrice(change('pc-2', 2, 0, '2026-11-25T09:01:00Z'));
    expect(billFor('dep-4', [2, 1])).toBe(999);
  });

  it('keeps the latest decision whatever order the changes arrive in', () => {
    const changes = [
      change('pc-a', 5, 100, '2026-11-25T08:00:00Z'),
      change('pc-b', 5, 300, '2026-11-25T09:00:00+01:00'), // 08:00Z, the same instant: the id breaks the tie
      change('pc-c', 5, 200, '2026-11-25T07:59:59.999Z'),
    ];
    const orders = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
      [2, 0, 1, 1, 0],
    ];
    const results = orders.map((order) => {
      store.db.exec('DELETE FROM prices');
      for (const i of order) setPrice(changes[i]!);
      return prices.priceOf(5);
    });
    expect(results).toEqual([300, 300, 300, 300]);
  });

  it('says which price is in force and where it comes from (GET /prices)', () => {
    setPrice(change('pc-9', 7, 1234, '2026-11-25T09:00:00.000Z'));
    const rows = prices.list();
    expect(rows).toHaveLength(catalog.products.length);
    expect(rows.find((r) => r.product_id === 7)).toEqual({
      product_id: 7,
      name: catalog.get(7)!.name,
      price_cents: 1234,
      change_id: 'pc-9',
      decided_at: '2026-11-25T09:00:00.000Z',
    });
    expect(rows.find((r) => r.product_id === 8)).toEqual({
      product_id: 8,
      name: catalog.get(8)!.name,
      price_cents: catalog.get(8)!.price_cents,
    });
  });

  it('refuses a price for a product the store does not sell, and keeps every price', () => {
    const err = (() => {
      try {
        setPrice(change('pc-x', 100_000, 5, '2026-11-25T09:00:00Z'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('UNKNOWN_PRODUCT');
    expect(store.db.prepare('SELECT count(*) AS n FROM prices').get()).toEqual({ n: 0 });
  });
});
