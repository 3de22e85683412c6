import {
  AppError,
  deriveEventId,
  eventTopic,
  type Db,
  type Event,
  type EventHandler,
  type Logger,
  type Outgoing,
  type ProductCatalog,
  type TopicRoot,
  type WireEvent,
} from '@spectrum-grocers/shared';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS stock (
  product_id INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  quantity   INTEGER NOT NULL CHECK (quantity >= 0),
  threshold  INTEGER NOT NULL CHECK (threshold >= 0)
);
`;

/** Seed stock from the catalog for products the store does not know yet; never resets counts. */
export function seedStock(db: Db, catalog: ProductCatalog): void {
  const insert = db.prepare('INSERT OR IGNORE INTO stock (product_id, name, quantity, threshold) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const p of catalog.products) insert.run(p.id, p.name, p.starting_stock, p.restock_threshold);
  })();
}

/** How many of each product a basket takes: two cartons of milk take two. */
export function countItems(productIds: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const id of productIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

export interface StockRow {
  product_id: number;
  name: string;
  quantity: number;
  threshold: number;
}

/** The shelves as they are now, for `GET /stock`. */
export function readStock(db: Db): StockRow[] {
  return db.prepare<[], StockRow>('SELECT product_id, name, quantity, threshold FROM stock ORDER BY product_id').all();
}

export interface Deps {
  db: Db;
  clock: () => Date;
  topics: TopicRoot;
  log: Logger;
}

/**
 * Take a departure's products off the shelves. Stock never goes below zero (taking more than
 * we think we have is logged as an anomaly); a product that falls below its threshold raises
 * one restock-alert for that crossing.
 */
export function createDepartureHandler({ db, clock, topics, log }: Deps): EventHandler<'customer-departure'> {
  const select = db.prepare<[number], { quantity: number; threshold: number }>(
    'SELECT quantity, threshold FROM stock WHERE product_id = ?',
  );
  const update = db.prepare('UPDATE stock SET quantity = ? WHERE product_id = ?');
  return (departure: Event<'customer-departure'>): Outgoing[] => {
    const counts = countItems(departure.product_ids);
    const rows = new Map([...counts.keys()].map((id) => [id, select.get(id)]));
    const unknown = [...rows].filter(([, row]) => row === undefined).map(([id]) => id);
    if (unknown.length > 0)
      throw new AppError('UNKNOWN_PRODUCT', `product_ids not in the catalog: ${unknown.join(', ')}`);
    const alerts: Outgoing[] = [];
    for (const [id, taken] of counts) {
      const { quantity, threshold } = rows.get(id)!;
      const left = Math.max(0, quantity - taken);
      if (taken > quantity) {
        log.warn(
          { productId: id, stock: quantity, taken, eventId: departure.event_id },
          'stock anomaly: more taken than in stock; clamped at 0',
        );
      }
      update.run(left, id);
      if (quantity >= threshold && left < threshold) {
        const alert: WireEvent<'restock-alert'> & { event_id: string } = {
          event_id: deriveEventId('restock-alert', departure.event_id, id),
          causation_id: departure.event_id,
          timestamp: clock().toISOString(),
          item_id: id,
          quantity: left,
          threshold,
        };
        log.info({ itemId: id, quantity: left, threshold }, `Restock needed for product ${id}`);
        alerts.push({ topic: eventTopic(topics, 'restock-alert'), eventId: alert.event_id, payload: alert });
      }
    }
    log.info(
      { customerId: departure.customer_id, items: departure.product_ids.length },
      `Inventory updated for customer ${departure.customer_id}.`,
    );
    return alerts;
  };
}
