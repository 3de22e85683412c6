import { z } from 'zod';
import {
  AppError,
  deriveEventId,
  eventTopic,
  schemas,
  type Event,
  type ProductCatalog,
} from '@spectrum-grocers/contract';
import { route, type HttpRoute, type Logger } from '@spectrum-grocers/runtime';
import type { HqHandler, Pool } from '@spectrum-grocers/hq';

/** One replenishment order per restock alert of a store; its id is the delivery's. */
export const ORDERS_SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  order_id       text PRIMARY KEY,
  store          text NOT NULL,
  alert_event_id text NOT NULL,
  product_id     integer NOT NULL,
  quantity       integer NOT NULL CHECK (quantity > 0),
  stock_left     integer NOT NULL,
  ordered_at     timestamptz NOT NULL DEFAULT now(),
  deliver_at     timestamptz NOT NULL,
  UNIQUE (store, alert_event_id)
);
CREATE INDEX IF NOT EXISTS orders_by_store ON orders (store, ordered_at DESC);
`;

/** An order's id: the same alert of the same store always makes the same order. */
export function orderIdFor(store: string, alertEventId: string): string {
  return deriveEventId('replenishment-order', store, alertEventId);
}

/**
 * A store's restock alert → one replenishment order, topping the product up to its starting
 * stock, and the delivery that brings it (`stock-delivered` to that store, sent once the lead
 * time has passed). The order and the delivery are committed with the alert's inbox row, so an
 * alert delivered twice, or handled by two replicas, orders once.
 */
export function createAlertHandler(deps: {
  catalog: ProductCatalog;
  chain: string;
  leadTimeMs: number;
  clock: () => Date;
  log: Logger;
}): HqHandler<'restock-alert'> {
  const { catalog, chain, leadTimeMs, clock, log } = deps;
  return async (alert: Event<'restock-alert'>, { tx, store }) => {
    const product = catalog.get(alert.item_id);
    if (!product) throw new AppError('UNKNOWN_PRODUCT', `item_id ${alert.item_id} is not in the catalog`);
    const quantity = Math.max(1, product.starting_stock - alert.quantity);
    const orderId = orderIdFor(store, alert.event_id);
    const deliverAt = new Date(clock().getTime() + leadTimeMs);
    const added = await tx.query(
      `INSERT INTO orders (order_id, store, alert_event_id, product_id, quantity, stock_left, deliver_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [orderId, store, alert.event_id, alert.item_id, quantity, alert.quantity, deliverAt.toISOString()],
    );
    if (added.rowCount === 0) return []; // ordered already (the same alert under another topic)
    log.info(
      { store, orderId, productId: alert.item_id, quantity },
      `store ${store}: product ${alert.item_id} down to ${alert.quantity}, ordered ${quantity}`,
    );
    const delivery: Event<'stock-delivered'> = {
      event_id: deriveEventId('stock-delivered', orderId),
      causation_id: alert.event_id,
      timestamp: deliverAt.toISOString(),
      delivery_id: orderId,
      product_id: alert.item_id,
      quantity: Math.min(quantity, schemas.MAX_DELIVERY_QUANTITY),
    };
    const topic = eventTopic({ chain, store }, 'stock-delivered');
    return [{ topic, eventId: delivery.event_id, payload: delivery, store, publishAfter: deliverAt }];
  };
}

const OrderBody = z.object({
  order_id: schemas.EventId,
  store: z.string(),
  alert_event_id: schemas.EventId.describe('The restock alert it answers'),
  product_id: schemas.Id,
  quantity: z.int().positive(),
  stock_left: z.int().nonnegative().describe('The stock the alert reported'),
  ordered_at: z.string(),
  deliver_at: z.string().describe('When its delivery is sent to the store'),
});

export const MAX_ORDERS = 500;

/** GET /orders: the newest orders, of one store or of all. */
export function ordersRoute(pool: Pool): HttpRoute {
  return route({
    method: 'GET',
    path: '/orders',
    summary: 'Replenishment orders, newest first: one per restock alert of a store',
    query: z.object({
      store: z.string().max(128).optional(),
      limit: z.coerce.number().int().positive().max(MAX_ORDERS).default(100),
    }),
    responses: { 200: z.object({ orders: z.array(OrderBody), total: z.int().nonnegative() }) },
    handler: async ({ query }) => {
      const where = query.store === undefined ? '' : 'WHERE store = $2';
      const args = query.store === undefined ? [query.limit] : [query.limit, query.store];
      const rows = await pool.query<z.input<typeof OrderBody>>(
        `SELECT order_id, store, alert_event_id, product_id, quantity, stock_left,
                to_json(ordered_at)#>>'{}' AS ordered_at, to_json(deliver_at)#>>'{}' AS deliver_at
           FROM orders ${where} ORDER BY ordered_at DESC, order_id LIMIT $1`,
        args,
      );
      const total = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM orders ${query.store === undefined ? '' : 'WHERE store = $1'}`,
        query.store === undefined ? [] : [query.store],
      );
      return { status: 200, body: { orders: rows.rows, total: Number(total.rows[0]?.n ?? 0) } };
    },
  });
}
