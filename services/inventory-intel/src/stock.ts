import type { Db } from '@spectrum-grocers/runtime';
import type { Event, ProductCatalog } from '@spectrum-grocers/contract';

/**
 * The stock rules of a store, on a `stock` table: inventory-intel keeps the shelves with them,
 * and the control room follows the events with the same rules to show them.
 */
export const STOCK_SCHEMA = `
CREATE TABLE IF NOT EXISTS stock (
  product_id INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  quantity   INTEGER NOT NULL CHECK (quantity >= 0),
  threshold  INTEGER NOT NULL CHECK (threshold >= 0)
);
CREATE TABLE IF NOT EXISTS deliveries (
  delivery_id TEXT PRIMARY KEY,
  product_id  INTEGER NOT NULL,
  quantity    INTEGER NOT NULL CHECK (quantity > 0),
  event_id    TEXT NOT NULL,
  received_at TEXT NOT NULL
);
`;

/** How a product stands: none left, under its restock threshold, or enough. */
export type StockState = 'out' | 'low' | 'ok';

export function stockState({ quantity, threshold }: { quantity: number; threshold: number }): StockState {
  if (quantity === 0) return 'out';
  return quantity < threshold ? 'low' : 'ok';
}

/**
 * What a delivery did: raised the stock; nothing, because its id was received already with the
 * same goods; or nothing, because the id stands for other goods or the product is unknown.
 */
export type Received =
  | { outcome: 'raised'; before: number; after: number }
  | { outcome: 'repeated' }
  | { outcome: 'conflict'; kept: { productId: number; quantity: number } }
  | { outcome: 'unknown-product' };

export interface StockRow {
  product_id: number;
  name: string;
  quantity: number;
  threshold: number;
}

/** One product of a basket taken off the shelves. */
export interface Taken {
  productId: number;
  /** How many the basket took. */
  count: number;
  before: number;
  /** Never below zero: taking more than we think we have is an anomaly, not negative stock. */
  after: number;
  threshold: number;
  /** This take fell below the restock threshold: one restock alert for this crossing. */
  crossed: boolean;
}

export interface Shelves {
  /** Stock the catalog's products the store does not know yet; never resets counts. */
  seed(catalog: ProductCatalog): void;
  /** The shelves as they are now, by product. */
  read(): StockRow[];
  /** Take a basket off the shelves; products the store does not stock are listed, not taken. */
  take(productIds: readonly number[]): { taken: Taken[]; unknown: number[] };
  /** Set a product's level to what inventory-intel counted (a restock alert says it). */
  set(productId: number, quantity: number): void;
  /** Raise a product's stock by a delivery, once per delivery id; call inside the caller's transaction. */
  receive(delivery: Event<'stock-delivered'>, at: Date): Received;
}

/** How many of each product a basket takes: two cartons of milk take two. */
export function countItems(productIds: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const id of productIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** The shelves in `db` (its schema must include STOCK_SCHEMA); call `take` inside the caller's transaction. */
export function createShelves(db: Db): Shelves {
  const insert = db.prepare('INSERT OR IGNORE INTO stock (product_id, name, quantity, threshold) VALUES (?, ?, ?, ?)');
  const select = db.prepare<[number], { quantity: number; threshold: number }>(
    'SELECT quantity, threshold FROM stock WHERE product_id = ?',
  );
  const update = db.prepare('UPDATE stock SET quantity = ? WHERE product_id = ?');
  const all = db.prepare<[], StockRow>('SELECT product_id, name, quantity, threshold FROM stock ORDER BY product_id');
  const insertDelivery = db.prepare(
    'INSERT OR IGNORE INTO deliveries (delivery_id, product_id, quantity, event_id, received_at) VALUES (?, ?, ?, ?, ?)',
  );
  const selectDelivery = db.prepare<[string], { product_id: number; quantity: number }>(
    'SELECT product_id, quantity FROM deliveries WHERE delivery_id = ?',
  );
  return {
    seed(catalog) {
      db.transaction(() => {
        for (const p of catalog.products) insert.run(p.id, p.name, p.starting_stock, p.restock_threshold);
      })();
    },
    read: () => all.all(),
    take(productIds) {
      const counts = countItems(productIds);
      const rows = new Map([...counts.keys()].map((id) => [id, select.get(id)]));
      const unknown = [...rows].filter(([, row]) => row === undefined).map(([id]) => id);
      if (unknown.length > 0) return { taken: [], unknown };
      const taken = [...counts].map(([productId, count]): Taken => {
        const { quantity: before, threshold } = rows.get(productId)!;
        const after = Math.max(0, before - count);
        update.run(after, productId);
        return { productId, count, before, after, threshold, crossed: before >= threshold && after < threshold };
      });
      return { taken, unknown };
    },
    set(productId, quantity) {
      update.run(quantity, productId);
    },
    receive({ delivery_id: deliveryId, product_id: productId, quantity, event_id: eventId }, at) {
      const row = select.get(productId);
      if (row === undefined) return { outcome: 'unknown-product' };
      if (insertDelivery.run(deliveryId, productId, quantity, eventId, at.toISOString()).changes === 0) {
        const kept = selectDelivery.get(deliveryId)!;
        return kept.product_id === productId && kept.quantity === quantity
          ? { outcome: 'repeated' }
          : { outcome: 'conflict', kept: { productId: kept.product_id, quantity: kept.quantity } };
      }
      const after = row.quantity + quantity;
      update.run(after, productId);
      return { outcome: 'raised', before: row.quantity, after };
    },
  };
}
