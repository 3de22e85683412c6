import type { Event } from '@spectrum-grocers/contract';
import type { HqHandler, HqOutgoing, Tx } from '@spectrum-grocers/hq';
import type { Logger } from '@spectrum-grocers/runtime';

/**
 * The chain's ledger, one row per fact a store reported, so that every total is a query over
 * the rows rather than a counter that drifts when an event comes twice.
 * - `ledger_stores`: each store the head office has heard of, once: its first sighting is when it
 *   is sent the chain-wide prices it may have missed.
 * - `ledger_payments`: every payment-due once per (store, event_id), at the payment's own time;
 *   the index covers the sums per store and day, so they read no table row.
 * - `ledger_stock`: the last count each store reported per product (its restock alerts).
 * - `ledger_deliveries`: each delivery seen leaving HQ, once per (store, delivery_id).
 */
export const LEDGER_SCHEMA = `
CREATE TABLE IF NOT EXISTS ledger_stores (
  store      text PRIMARY KEY,
  first_seen timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ledger_payments (
  store        text NOT NULL,
  event_id     text NOT NULL,
  customer_id  bigint NOT NULL,
  amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
  paid_at      timestamptz NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (store, event_id)
);
CREATE INDEX IF NOT EXISTS ledger_payments_by_day ON ledger_payments (store, paid_at) INCLUDE (amount_cents);
CREATE TABLE IF NOT EXISTS ledger_stock (
  store       text NOT NULL,
  product_id  bigint NOT NULL,
  quantity    bigint NOT NULL,
  threshold   bigint,
  reported_at timestamptz NOT NULL,
  event_id    text NOT NULL,
  PRIMARY KEY (store, product_id)
);
CREATE TABLE IF NOT EXISTS ledger_deliveries (
  store        text NOT NULL,
  delivery_id  text NOT NULL,
  event_id     text NOT NULL,
  product_id   bigint NOT NULL,
  quantity     integer NOT NULL CHECK (quantity > 0),
  delivered_at timestamptz NOT NULL,
  PRIMARY KEY (store, delivery_id)
);
`;

/**
 * An event's time as an instant: the original Python publishers send local ISO times with no
 * offset, read here as UTC so a payment's day does not depend on the database's time zone.
 */
export function instantOf(timestamp: string): string {
  return /(?:Z|[+-]\d\d(?::?\d\d)?)$/i.test(timestamp) ? timestamp : `${timestamp}Z`;
}

/** What a store's first sighting sends it: the chain-wide prices in force (see prices.ts). */
export type Welcome = (tx: Tx, store: string) => Promise<readonly HqOutgoing[]>;

/** Record `store` as heard of; the first time, what it must be sent besides. */
export function firstSighting(welcome: Welcome): Welcome {
  return async (tx, store) => {
    const added = await tx.query('INSERT INTO ledger_stores (store) VALUES ($1) ON CONFLICT DO NOTHING', [store]);
    return added.rowCount === 0 ? [] : welcome(tx, store);
  };
}

export interface LedgerHandlers {
  readonly 'payment-due': HqHandler<'payment-due'>;
  readonly 'restock-alert': HqHandler<'restock-alert'>;
  readonly 'stock-delivered': HqHandler<'stock-delivered'>;
}

/**
 * The ledger's handlers. Each writes its row in the transaction that marks the event done, and
 * the inbox already drops a copy under the same topic; the keys drop a copy that came another way.
 */
export function createLedgerHandlers(deps: { sighted: Welcome; log: Logger }): LedgerHandlers {
  const { sighted, log } = deps;
  return {
    'payment-due': async (payment: Event<'payment-due'>, { tx, store }) => {
      const cents = payment.amount_cents ?? Math.round(payment.amount * 100);
      await tx.query(
        `INSERT INTO ledger_payments (store, event_id, customer_id, amount_cents, paid_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [store, payment.event_id, payment.customer_id, cents, instantOf(payment.timestamp)],
      );
      return sighted(tx, store);
    },
    'restock-alert': async (alert: Event<'restock-alert'>, { tx, store }) => {
      // The latest report wins whatever the order they are processed in (a redelivery after a
      // failover can bring an older one last).
      await tx.query(
        `INSERT INTO ledger_stock (store, product_id, quantity, threshold, reported_at, event_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (store, product_id) DO UPDATE SET
           quantity = excluded.quantity, threshold = excluded.threshold,
           reported_at = excluded.reported_at, event_id = excluded.event_id
         WHERE excluded.reported_at >= ledger_stock.reported_at`,
        [store, alert.item_id, alert.quantity, alert.threshold ?? null, instantOf(alert.timestamp), alert.event_id],
      );
      return sighted(tx, store);
    },
    'stock-delivered': async (delivery: Event<'stock-delivered'>, { tx, store }) => {
      const added = await tx.query(
        `INSERT INTO ledger_deliveries (store, delivery_id, event_id, product_id, quantity, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [
          store,
          delivery.delivery_id,
          delivery.event_id,
          delivery.product_id,
          delivery.quantity,
          instantOf(delivery.timestamp),
        ],
      );
      if (added.rowCount === 0) log.debug({ store, deliveryId: delivery.delivery_id }, 'delivery already recorded');
      return sighted(tx, store);
    },
  };
}
