import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Event } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { quietLogger, tempDatabase } from '@spectrum-grocers/testkit';
import { countItems, createShelves, STOCK_SCHEMA } from '../stock.js';
import { createDepartureHandler } from './customer-departure.js';

const catalog = loadProductCatalog();
const now = new Date('2026-11-22T10:00:00Z');
let n = 0;
const departure = (product_ids: number[]): Event<'customer-departure'> => ({
  event_id: `dep-${++n}`,
  timestamp: now.toISOString(),
  customer_id: 1,
  product_ids,
});

describe('inventory-intel: customer-departure', () => {
  let store: ReturnType<typeof tempDatabase>;
  let handle: ReturnType<typeof createDepartureHandler>;
  let shelves: ReturnType<typeof createShelves>;
  const stockOf = (id: number) =>
    (store.db.prepare('SELECT quantity FROM stock WHERE product_id = ?').get(id) as { quantity: number }).quantity;
  beforeEach(() => {
    store = tempDatabase('inventory-intel', STOCK_SCHEMA);
    shelves = createShelves(store.db);
    shelves.seed(catalog);
    handle = createDepartureHandler({ shelves, clock: () => now, log: quietLogger() });
  });
  afterEach(() => store.close());

  it('seeds stock from the catalog once, never resetting counts', () => {
    expect(stockOf(1)).toBe(catalog.get(1)!.starting_stock);
    handle(departure([1]));
    shelves.seed(catalog);
    expect(stockOf(1)).toBe(catalog.get(1)!.starting_stock - 1);
  });

  it('takes one off the shelf per product occurrence', () => {
    expect(countItems([3, 3, 5])).toEqual(
      new Map([
        [3, 2],
        [5, 1],
      ]),
    );
    handle(departure([3, 3, 5]));
    expect(stockOf(3)).toBe(catalog.get(3)!.starting_stock - 2);
    expect(stockOf(5)).toBe(catalog.get(5)!.starting_stock - 1);
  });

  it('raises one restock-alert when a product crosses below its threshold, and none after', () => {
    const p = catalog.get(7)!;
    const toThreshold = p.starting_stock - p.restock_threshold; // leaves exactly the threshold
    expect(handle(departure(Array<number>(toThreshold).fill(7)))).toEqual([]);
    const crossing = departure([7]);
    const [alert, ...rest] = handle(crossing);
    expect(rest).toEqual([]);
    expect(alert!.event).toBe('restock-alert');
    expect(alert!.payload).toMatchObject({
      causation_id: crossing.event_id,
      item_id: 7,
      quantity: p.restock_threshold - 1,
      threshold: p.restock_threshold,
    });
    expect(handle(departure([7]))).toEqual([]);
  });

  it('never goes below zero, and says nothing more once empty', () => {
    const p = catalog.get(9)!;
    handle(departure(Array<number>(p.starting_stock + 5).fill(9)));
    expect(stockOf(9)).toBe(0);
    expect(handle(departure([9]))).toEqual([]);
    expect(stockOf(9)).toBe(0);
  });

  it('refuses a basket with unknown products and changes nothing', () => {
    expect(() => handle(departure([1, 555]))).toThrow(/555/);
    expect(stockOf(1)).toBe(catalog.get(1)!.starting_stock);
  });
});
