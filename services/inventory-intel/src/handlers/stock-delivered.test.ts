import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, type Event } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { quietLogger, tempDatabase } from '@spectrum-grocers/testkit';
import { createShelves, STOCK_SCHEMA, stockState } from '../stock.js';
import { createDepartureHandler } from './customer-departure.js';
import { createDeliveryHandler } from './stock-delivered.js';

const catalog = loadProductCatalog();
const now = new Date('2026-11-24T10:00:00Z');
let n = 0;
const delivery = (delivery_id: string, product_id: number, quantity: number): Event<'stock-delivered'> => ({
  event_id: `del-${++n}`,
  timestamp: now.toISOString(),
  delivery_id,
  product_id,
  quantity,
});
const departure = (product_ids: number[]): Event<'customer-departure'> => ({
  event_id: `dep-${++n}`,
  timestamp: now.toISOString(),
  customer_id: 1,
  product_ids,
});

describe('inventory-intel: stock-delivered', () => {
  let store: ReturnType<typeof tempDatabase>;
  let shelves: ReturnType<typeof createShelves>;
  let deliver: ReturnType<typeof createDeliveryHandler>;
  let depart: ReturnType<typeof createDepartureHandler>;
  const rowOf = (id: number) => shelves.read().find((r) => r.product_id === id)!;
  beforeEach(() => {
    store = tempDatabase('inventory-intel', STOCK_SCHEMA);
    shelves = createShelves(store.db);
    shelves.seed(catalog);
    deliver = createDeliveryHandler({ shelves, clock: () => now, log: quietLogger() });
    depart = createDepartureHandler({ shelves, clock: () => now, log: quietLogger() });
  });
  afterEach(() => store.close());

  it('raises the stock by the quantity delivered and publishes nothing', () => {
    const before = rowOf(3).quantity;
    expect(deliver(delivery('d-1', 3, 12))).toEqual([]);
    expect(rowOf(3).quantity).toBe(before + 12);
  });

  it('raises the stock once per delivery id, whatever event carries it again', () => {
    const before = rowOf(4).quantity;
    deliver(delivery('d-2', 4, 5));
    deliver(delivery('d-2', 4, 5)); // another event_id, the same delivery
    deliver(delivery('d-2', 4, 5));
    expect(rowOf(4).quantity).toBe(before + 5);
  });

  it('refuses other goods under a known delivery id, and changes nothing', () => {
    deliver(delivery('d-3', 5, 10));
    const after = rowOf(5).quantity;
    const other = rowOf(6).quantity;
    for (const wrong of [delivery('d-3', 5, 11), delivery('d-3', 6, 10)]) {
      expect(() => deliver(wrong)).toThrow(AppError);
      expect(() => deliver(wrong)).toThrow(/d-3 was received as 10 of product 5/);
    }
    expect(rowOf(5).quantity).toBe(after);
    expect(rowOf(6).quantity).toBe(other);
  });

  it('refuses a product the store does not stock, and keeps its id free', () => {
    expect(() => deliver(delivery('d-4', 9999, 1))).toThrow(/UNKNOWN_PRODUCT|not in the catalog: 9999/);
    const before = rowOf(7).quantity;
    deliver(delivery('d-4', 7, 2));
    expect(rowOf(7).quantity).toBe(before + 2);
  });

  it('out of stock is its own state; a delivery ends it and a new crossing alerts again', () => {
    const p = catalog.get(9)!;
    depart(departure(Array<number>(p.starting_stock).fill(9)));
    expect(stockState(rowOf(9))).toBe('out');
    // The goods left the store all the same: a departure from an empty shelf is taken, stock stays 0.
    expect(depart(departure([9]))).toEqual([]);
    expect(rowOf(9).quantity).toBe(0);
    deliver(delivery('d-5', 9, p.restock_threshold - 1));
    expect(stockState(rowOf(9))).toBe('low');
    deliver(delivery('d-6', 9, p.starting_stock));
    expect(stockState(rowOf(9))).toBe('ok');
    const toThreshold = rowOf(9).quantity - p.restock_threshold;
    expect(depart(departure(Array<number>(toThreshold).fill(9)))).toEqual([]);
    const alerts = depart(departure([9]));
    expect(alerts.map((a) => a.event)).toEqual(['restock-alert']);
  });
});
