import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Event } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { quietLogger, tempDatabase } from '@spectrum-grocers/testkit';
import { BillBody, BillsQuery, createBillBook, MAX_BILLS } from './bills.js';
import { createDepartureHandler, SCHEMA } from './handlers/customer-departure.js';

const catalog = loadProductCatalog();
// The catalog's prices, as a store bills before the head office changes any.
const catalogPrices = { priceOf: (id: number) => catalog.get(id)?.price_cents };

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
      prices: catalogPrices,
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
    expect(createBillBook(store.db).list({ customerId: 7, limit: 10 })).toEqual({ bills: [] });
  });

  it("lists one customer's bills, newest first, a page at a time", () => {
    const ids = [1, 2, 3, 4, 5].map(() => handle(depart(8, [1, 16]))[0]!.payload.event_id);
    handle(depart(9, [1]));
    const book = createBillBook(store.db);
    const all = book.list({ customerId: 8, limit: 10 });
    expect(all.next).toBeUndefined();
    expect(all.bills.map((b) => b.payment_event_id)).toEqual([...ids].reverse());
    expect(all.bills[0]).toMatchObject({ customer_id: 8, item_count: 2, amount_cents: priceOf([1, 16]) });
    const page = book.list({ customerId: 8, limit: 2 });
    expect(page.bills).toHaveLength(2);
    const rest = book.list({ customerId: 8, limit: 10, after: page.next });
    expect(rest.bills.map((b) => b.payment_event_id)).toEqual([...ids].reverse().slice(2));
    expect(book.list({ customerId: 10, limit: 10 })).toEqual({ bills: [] });
    expect(book.list({ customerId: 8, limit: MAX_BILLS * 10 }).bills).toHaveLength(5);
  });

  it('skips and repeats no bill across pages when many share a millisecond (a backlog)', () => {
    const sameTime = createDepartureHandler({
      db: store.db,
      prices: catalogPrices,
      clock: () => new Date('2026-11-24T12:00:00.000Z'),
      log: quietLogger(),
    });
    const ids = Array.from({ length: 7 }, () => sameTime(depart(12, [2]))[0]!.payload.event_id);
    const book = createBillBook(store.db);
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = book.list({ customerId: 12, limit: 3, after });
      seen.push(...page.bills.map((b) => b.payment_event_id));
      if (page.next === undefined) break;
      after = page.next;
    }
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it('lists a bill of an empty basket from before they went unbilled (item_count 0)', () => {
    store.db
      .prepare('INSERT INTO bills VALUES (?, ?, ?, ?, ?, ?)')
      .run('pay-old', 'dep-old', 13, 0, 0, '2026-11-01T10:00:00.000Z');
    const [old] = createBillBook(store.db).list({ customerId: 13, limit: 10 }).bills;
    expect(BillBody.parse(old)).toMatchObject({ item_count: 0, amount_cents: 0 });
  });

  it('reads only whole numbers and its own cursors from the query string', () => {
    for (const bad of [
      { customer_id: '0x10' },
      { customer_id: '1e1' },
      { customer_id: ' 1 ' },
      { customer_id: '-1' },
    ]) {
      expect(BillsQuery.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(BillsQuery.safeParse({ customer_id: '7', after: 'not-a-cursor' }).success).toBe(false);
    expect(BillsQuery.parse({ customer_id: '7' })).toEqual({ customer_id: 7, limit: 100 });
  });
});

function priceOf(ids: number[]): number {
  return ids.reduce((sum, id) => sum + catalog.get(id)!.price_cents, 0);
}
