import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Event } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { quietLogger, tempDatabase } from '@spectrum-grocers/testkit';
import { createBillBook, MAX_BILLS } from './bills.js';
import { createDepartureHandler, SCHEMA } from './handlers/customer-departure.js';

const catalog = loadProductCatalog();

describe('fastlane-finale: bills', () => {
  let store: ReturnType<typeof tempDatabase>;
  let handle: ReturnType<typeof createDepartureHandler>;
  let at = Date.parse('2026-11-24T10:00:00Z');
  let n = 0;
  const depart = (customer_id: number, product_ids: number[]): Event<'customer-departure'> => ({
    event_id: `dep-${++n}`,
    timestamp: new Date(at).toISOString(),
    customer_id,
    product_ids,
  });
  beforeEach(() => {
    store = tempDatabase('fastlane-finale', SCHEMA);
    handle = createDepartureHandler({
      db: store.db,
      catalog,
      clock: () => new Date((at += 1000)),
      log: quietLogger(),
    });
  });
  afterEach(() => store.close());

  it('bills nothing for an empty basket, and records the departure', () => {
    const empty = depart(7, []);
    expect(handle(empty)).toEqual([]);
    const row = store.db.prepare('SELECT * FROM empty_departures').all();
    expect(row).toEqual([
      { departure_event_id: empty.event_id, customer_id: 7, created_at: expect.any(String) as unknown },
    ]);
    expect(createBillBook(store.db).list({ customerId: 7, limit: 10 })).toEqual([]);
  });

  it("lists one customer's bills, newest first, and pages back with `before`", () => {
    const ids = [1, 2, 3, 4, 5].map(() => handle(depart(8, [1, 16]))[0]!.payload.event_id);
    handle(depart(9, [1]));
    const book = createBillBook(store.db);
    const all = book.list({ customerId: 8, limit: 10 });
    expect(all.map((b) => b.payment_event_id)).toEqual(ids.reverse());
    expect(all[0]).toMatchObject({ customer_id: 8, item_count: 2, amount_cents: priceOf([1, 16]) });
    const page = book.list({ customerId: 8, limit: 2 });
    expect(page).toHaveLength(2);
    const next = book.list({ customerId: 8, limit: 10, before: page[1]!.created_at });
    expect(next.map((b) => b.payment_event_id)).toEqual(ids.slice(2));
    expect(book.list({ customerId: 10, limit: 10 })).toEqual([]);
    expect(book.list({ customerId: 8, limit: MAX_BILLS * 10 })).toHaveLength(5);
  });
});

function priceOf(ids: number[]): number {
  return ids.reduce((sum, id) => sum + catalog.get(id)!.price_cents, 0);
}
