import { z } from 'zod';
import { AppError, schemas, type ProductCatalog } from '@spectrum-grocers/contract';
import { route, type Db, type HttpRoute } from '@spectrum-grocers/runtime';

/**
 * The prices the head office set, over the catalog's. One row per product: the latest decision
 * (`decided_at`, then `change_id` to break a tie), so changes applied in any order, or again,
 * leave the same price.
 */
export const PRICES_SCHEMA = `
CREATE TABLE IF NOT EXISTS prices (
  product_id  INTEGER PRIMARY KEY,
  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
  decided_at  INTEGER NOT NULL,
  change_id   TEXT NOT NULL,
  applied_at  TEXT NOT NULL
);
`;

export interface PriceChange {
  productId: number;
  priceCents: number;
  /** When the head office decided, in ms since the epoch. */
  decidedAt: number;
  changeId: string;
  appliedAt: string;
}

export interface PriceBook {
  /** A product's price in cents now: the head office's, else the catalog's. */
  priceOf(productId: number): number | undefined;
  /** Record a change; false when a later decision for the product is already in force. */
  apply(change: PriceChange): boolean;
  /** Every product of the catalog with its price now, and where the price comes from. */
  list(): PriceRow[];
}

export interface PriceRow {
  product_id: number;
  name: string;
  price_cents: number;
  /** The price-change event in force, when the head office set this price. */
  change_id?: string;
  decided_at?: string;
}

export function createPriceBook(db: Db, catalog: ProductCatalog): PriceBook {
  const read = db.prepare<[number], { price_cents: number }>('SELECT price_cents FROM prices WHERE product_id = ?');
  const upsert = db.prepare<[number, number, number, string, string]>(
    `INSERT INTO prices (product_id, price_cents, decided_at, change_id, applied_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (product_id) DO UPDATE SET
       price_cents = excluded.price_cents, decided_at = excluded.decided_at,
       change_id = excluded.change_id, applied_at = excluded.applied_at
     WHERE (excluded.decided_at, excluded.change_id) > (prices.decided_at, prices.change_id)`,
  );
  const all = db.prepare<[], { product_id: number; price_cents: number; decided_at: number; change_id: string }>(
    'SELECT product_id, price_cents, decided_at, change_id FROM prices',
  );
  return {
    priceOf(productId) {
      return read.get(productId)?.price_cents ?? catalog.get(productId)?.price_cents;
    },
    apply(change) {
      if (!catalog.get(change.productId)) {
        throw new AppError('UNKNOWN_PRODUCT', `product_id ${change.productId} is not in the catalog`);
      }
      const { productId, priceCents, decidedAt, changeId, appliedAt } = change;
      return upsert.run(productId, priceCents, decidedAt, changeId, appliedAt).changes > 0;
    },
    list() {
      const set = new Map(all.all().map((r) => [r.product_id, r]));
      return catalog.products.map((p) => {
        const own = set.get(p.id);
        return own
          ? {
              product_id: p.id,
              name: p.name,
              price_cents: own.price_cents,
              change_id: own.change_id,
              decided_at: new Date(own.decided_at).toISOString(),
            }
          : { product_id: p.id, name: p.name, price_cents: p.price_cents };
      });
    },
  };
}

/** GET /prices: what fastlane-finale bills each product at now. */
export function pricesRoute(prices: PriceBook): HttpRoute {
  return route({
    method: 'GET',
    path: '/prices',
    summary: "Every product's price now: the catalog's, or the head office's latest price-change",
    responses: {
      200: z.object({
        prices: z.array(
          z.object({
            product_id: schemas.Id,
            name: z.string(),
            price_cents: z.int().nonnegative(),
            change_id: schemas.EventId.optional().describe('The price-change in force, if the head office set it'),
            decided_at: z.string().optional(),
          }),
        ),
      }),
    },
    handler: () => ({ status: 200, body: { prices: prices.list() } }),
  });
}
