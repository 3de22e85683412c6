import { AppError, deriveEventId, type Event, type WireEvent } from '@spectrum-grocers/contract';
import {
  counted,
  eventLines,
  rebuildTable,
  shortId,
  type Db,
  type EventHandler,
  type Logger,
  uniqueOn,
} from '@spectrum-grocers/runtime';
import type { PriceBook } from '../prices.js';

/**
 * One bill per payment. The payment id is derived from the departure's, so the key refuses a
 * second bill for one departure too; the table is its own key's index (WITHOUT ROWID), and
 * GET /bills reads it by customer. Two b-trees per bill: each one more is a page written and
 * synced per departure.
 */
const BILLS_TABLE = `
CREATE TABLE IF NOT EXISTS bills (
  payment_event_id   TEXT PRIMARY KEY,
  departure_event_id TEXT NOT NULL,
  customer_id        INTEGER NOT NULL,
  amount_cents       INTEGER NOT NULL CHECK (amount_cents >= 0),
  item_count         INTEGER NOT NULL,
  created_at         TEXT NOT NULL
) WITHOUT ROWID;`;

export const SCHEMA = `${BILLS_TABLE}
CREATE INDEX IF NOT EXISTS bills_by_customer ON bills (customer_id, created_at);
CREATE TABLE IF NOT EXISTS empty_departures (
  departure_event_id TEXT PRIMARY KEY,
  customer_id        INTEGER NOT NULL,
  created_at         TEXT NOT NULL
);
`;

/** An earlier version kept bills in a rowid table with a second unique key (departure_event_id). */
export function migrate(db: Db): void {
  if (uniqueOn(db, 'bills', 'departure_event_id') !== 'definition') return;
  rebuildTable(db, 'bills', BILLS_TABLE, [
    'payment_event_id',
    'departure_event_id',
    'customer_id',
    'amount_cents',
    'item_count',
    'created_at',
  ]);
}

/** Total of a basket in integer cents at today's prices; every product must be in the catalog. */
export function priceBasket(productIds: readonly number[], prices: Pick<PriceBook, 'priceOf'>): number {
  let cents = 0;
  const unknown = new Set<number>();
  for (const id of productIds) {
    const price = prices.priceOf(id);
    if (price !== undefined) cents += price;
    else unknown.add(id);
  }
  if (unknown.size > 0) {
    throw new AppError('UNKNOWN_PRODUCT', `product_ids not in the catalog: ${[...unknown].join(', ')}`);
  }
  return cents;
}

/** The payment id of a departure: the same departure always yields the same payment. */
export function paymentIdFor(departureEventId: string): string {
  return deriveEventId('payment-due', departureEventId);
}

export interface Deps {
  db: Db;
  prices: Pick<PriceBook, 'priceOf'>;
  clock: () => Date;
  log: Logger;
}

/**
 * Price a departure, record the bill, and say what the customer owes. A departure with nothing
 * in the bag owes nothing: it is recorded, and no payment is requested.
 */
export function createDepartureHandler({
  db,
  prices,
  clock,
  log,
}: Deps): EventHandler<'customer-departure', 'payment-due'> {
  const insertBill = db.prepare(
    'INSERT INTO bills (payment_event_id, departure_event_id, customer_id, amount_cents, item_count, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertEmpty = db.prepare(
    'INSERT INTO empty_departures (departure_event_id, customer_id, created_at) VALUES (?, ?, ?)',
  );
  const line = eventLines(log, 'departure');
  return (departure: Event<'customer-departure'>) => {
    if (departure.product_ids.length === 0) {
      insertEmpty.run(departure.event_id, departure.customer_id, clock().toISOString());
      line(
        { customerId: departure.customer_id, eventId: departure.event_id },
        `departure ${shortId(departure.event_id)} customer ${departure.customer_id}: nothing in the bag, nothing billed`,
      );
      return [];
    }
    const cents = priceBasket(departure.product_ids, prices);
    const payment: WireEvent<'payment-due'> & { event_id: string } = {
      event_id: paymentIdFor(departure.event_id),
      departure_event_id: departure.event_id,
      causation_id: departure.event_id,
      timestamp: clock().toISOString(),
      customer_id: departure.customer_id,
      amount: cents / 100,
      amount_cents: cents,
    };
    insertBill.run(
      payment.event_id,
      departure.event_id,
      departure.customer_id,
      cents,
      departure.product_ids.length,
      payment.timestamp,
    );
    line(
      {
        customerId: departure.customer_id,
        amountCents: cents,
        paymentId: payment.event_id,
        eventId: departure.event_id,
      },
      `departure ${shortId(departure.event_id)} customer ${departure.customer_id}: ` +
        `${counted(departure.product_ids.length, 'item')}, $${(cents / 100).toFixed(2)} billed`,
    );
    return [{ event: 'payment-due', payload: payment }];
  };
}
