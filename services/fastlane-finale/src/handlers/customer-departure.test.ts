import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError, type Event } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { quietLogger, tempDatabase } from '@spectrum-grocers/testkit';
import { createDepartureHandler, paymentIdFor, priceBasket, SCHEMA } from './customer-departure.js';

const catalog = loadProductCatalog();
const now = new Date('2026-11-22T10:00:00Z');

function departure(product_ids: number[], event_id = 'dep-1'): Event<'customer-departure'> {
  return { event_id, timestamp: now.toISOString(), customer_id: 4, product_ids };
}

describe('fastlane-finale: customer-departure', () => {
  let store: ReturnType<typeof tempDatabase>;
  let handle: ReturnType<typeof createDepartureHandler>;
  beforeEach(() => {
    store = tempDatabase('fastlane-finale', SCHEMA);
    handle = createDepartureHandler({ db: store.db, catalog, clock: () => now, log: quietLogger() });
  });
  afterEach(() => store.close());

  it('prices a basket from the catalog in integer cents, counting repeats', () => {
    const milk = catalog.get(1)!.price_cents;
    const pasta = catalog.get(16)!.price_cents;
    expect(priceBasket([1, 16, 1], catalog)).toBe(2 * milk + pasta);
  });

  it('adds cents without floating-point drift', () => {
    // 0.1 + 0.2 style drift would show up summing many prices as floats.
    const ids = Array.from({ length: 100 }, (_, i) => i + 1);
    const cents = priceBasket(ids, catalog);
    expect(cents).toBe(catalog.products.reduce((sum, p) => sum + p.price_cents, 0));
  });

  it('publishes payment-due with the original fields and ours, and records the bill', () => {
    const [out, ...rest] = handle(departure([1, 16, 1]));
    expect(rest).toHaveLength(0);
    const cents = priceBasket([1, 16, 1], catalog);
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
