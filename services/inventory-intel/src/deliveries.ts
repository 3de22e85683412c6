import {
  AppError,
  deriveEventId,
  newEventId,
  toAppError,
  type Event,
  type ProductCatalog,
} from '@spectrum-grocers/contract';
import { sleep, type Db, type Logger, type Outbox } from '@spectrum-grocers/runtime';

/**
 * Deliveries this store was told of (POST /deliveries, its simulated supplier), each published
 * once as `stock-delivered`; and the supplier's open orders, one per restock alert.
 */
export const DELIVERIES_SCHEMA = `
CREATE TABLE IF NOT EXISTS delivery_requests (
  delivery_id  TEXT PRIMARY KEY,
  product_id   INTEGER NOT NULL,
  quantity     INTEGER NOT NULL,
  event_id     TEXT NOT NULL,
  requested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS supplier_orders (
  alert_event_id TEXT PRIMARY KEY,
  product_id     INTEGER NOT NULL,
  quantity       INTEGER NOT NULL CHECK (quantity > 0),
  due_at         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS supplier_orders_by_due ON supplier_orders (due_at);
`;

export interface DeliveryRequest {
  productId: number;
  quantity: number;
  /** The supplier's reference; one is made when none is given. */
  deliveryId?: string;
  /** The restock alert it answers. */
  causationId?: string;
}

export interface Accepted {
  deliveryId: string;
  eventId: string;
  /** False when this delivery id was accepted before with the same goods (nothing new published). */
  created: boolean;
}

export interface DeliveryDesk {
  /**
   * Commit a delivery to the outbox as `stock-delivered` (durable when this returns); the stock
   * rises when inventory-intel reads it back from the broker, as it would a head office's. The
   * same request again is accepted again; other goods under a known id are refused.
   */
  accept(request: DeliveryRequest): Accepted;
}

/** The desk of `db`, whose schema holds DELIVERIES_SCHEMA and STOCK_SCHEMA (the deliveries received). */
export function createDeliveryDesk(db: Db, outbox: Outbox, catalog: ProductCatalog, clock: () => Date): DeliveryDesk {
  const select = db.prepare<[string], { product_id: number; quantity: number; event_id: string }>(
    'SELECT product_id, quantity, event_id FROM delivery_requests WHERE delivery_id = ?',
  );
  const selectReceived = db.prepare<[string], { product_id: number; quantity: number; event_id: string }>(
    'SELECT product_id, quantity, event_id FROM deliveries WHERE delivery_id = ?',
  );
  const insert = db.prepare(
    'INSERT INTO delivery_requests (delivery_id, product_id, quantity, event_id, requested_at) VALUES (?, ?, ?, ?, ?)',
  );
  const accept = db.transaction((request: DeliveryRequest): Accepted => {
    const { productId, quantity } = request;
    if (!catalog.get(productId))
      throw new AppError('UNKNOWN_PRODUCT', `product_id: ${productId} is not in the catalog`);
    const deliveryId = request.deliveryId ?? newEventId();
    // Told here before, or received from elsewhere (the topic): either way the id is taken.
    const known = select.get(deliveryId) ?? selectReceived.get(deliveryId);
    if (known) {
      if (known.product_id === productId && known.quantity === quantity) {
        return { deliveryId, eventId: known.event_id, created: false };
      }
      throw new AppError(
        'DELIVERY_CONFLICT',
        `delivery_id ${deliveryId} was accepted as ${known.quantity} of product ${known.product_id}`,
      );
    }
    const at = clock().toISOString();
    const event: Event<'stock-delivered'> = {
      event_id: deriveEventId('stock-delivered', deliveryId),
      ...(request.causationId !== undefined && { causation_id: request.causationId }),
      timestamp: at,
      delivery_id: deliveryId,
      product_id: productId,
      quantity,
    };
    insert.run(deliveryId, productId, quantity, event.event_id, at);
    outbox.emit([{ event: 'stock-delivered', payload: event }]);
    return { deliveryId, eventId: event.event_id, created: true };
  });
  return {
    accept(request) {
      const accepted = accept(request);
      // Publish once committed: inside a caller's transaction, the caller kicks after its commit.
      if (accepted.created && !db.inTransaction) outbox.kick();
      return accepted;
    },
  };
}

/** An alert the supplier answers: which product, and how many are left. */
export interface Alert {
  eventId: string;
  productId: number;
  quantity: number;
}

export interface Supplier {
  /** Order goods for one restock alert; call inside the transaction that emits the alert. */
  order(alert: Alert): void;
  /** Deliver the orders that are due; returns how many. */
  deliverDue(): number;
  /** Orders waiting for their time, and orders dropped because they could never be delivered. */
  stats(): { open: number; dropped: number };
  /** Deliver orders as they fall due, until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
}

/** How often the supplier looks for due orders at most. */
const POLL_MS = 1000;
/** Due orders read at a time. */
const BATCH = 100;

/**
 * A simulated supplier: each restock alert becomes an order (committed with the alert, so a
 * crash loses none), delivered `delayMs` later through the delivery desk as any supplier's
 * would be, topping the product up to its starting stock as the alert counted it. The delivery
 * id is derived from the alert's event id, so an order delivered twice raises the stock once.
 */
export function createSupplier(opts: {
  db: Db;
  outbox: Outbox;
  desk: DeliveryDesk;
  catalog: ProductCatalog;
  delayMs: number;
  clock: () => Date;
  log: Logger;
}): Supplier {
  const { db, outbox, desk, catalog, delayMs, clock, log } = opts;
  const insert = db.prepare(
    'INSERT OR IGNORE INTO supplier_orders (alert_event_id, product_id, quantity, due_at) VALUES (?, ?, ?, ?)',
  );
  const due = db.prepare<[number, number], { alert_event_id: string; product_id: number; quantity: number }>(
    'SELECT alert_event_id, product_id, quantity FROM supplier_orders WHERE due_at <= ? ORDER BY due_at LIMIT ?',
  );
  const remove = db.prepare('DELETE FROM supplier_orders WHERE alert_event_id = ?');
  const open = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM supplier_orders');
  let dropped = 0;
  const deliverOne = db.transaction((row: { alert_event_id: string; product_id: number; quantity: number }) => {
    desk.accept({
      productId: row.product_id,
      quantity: row.quantity,
      deliveryId: deriveEventId('supplier-delivery', row.alert_event_id),
      causationId: row.alert_event_id,
    });
    remove.run(row.alert_event_id);
  });
  /**
   * Each order on its own: one that can never be delivered (its delivery id taken by other goods,
   * its product gone from the catalog) is dropped and said so, and holds up no other.
   */
  function deliverDue(): number {
    let delivered = 0;
    for (let rows = due.all(clock().getTime(), BATCH); rows.length > 0; rows = due.all(clock().getTime(), BATCH)) {
      for (const row of rows) {
        try {
          deliverOne(row);
          delivered++;
        } catch (err) {
          const e = toAppError(err);
          if (e.retryable) throw e; // the store is busy: the next round tries again
          remove.run(row.alert_event_id);
          dropped++;
          log.error(
            { err: e, alertEventId: row.alert_event_id, productId: row.product_id },
            `supplier order for product ${row.product_id} dropped: ${e.message}`,
          );
        }
      }
      if (delivered > 0) outbox.kick();
    }
    return delivered;
  }
  return {
    order({ eventId, productId, quantity }) {
      const product = catalog.get(productId);
      if (!product) return;
      const amount = Math.max(1, product.starting_stock - quantity);
      insert.run(eventId, productId, amount, clock().getTime() + delayMs);
    },
    deliverDue,
    stats: () => ({ open: open.get()!.n, dropped }),
    async run(signal) {
      while (!signal.aborted) {
        try {
          const n = deliverDue();
          if (n > 0) log.debug({ deliveries: n }, 'supplier delivered');
        } catch (err) {
          log.error({ err }, 'supplier could not deliver; trying again');
        }
        await sleep(POLL_MS, signal);
      }
    },
  };
}
