import { z } from 'zod';
import { describeIssues } from './parse.js';

export const Product = z.object({
  id: z.int().positive(),
  name: z.string().min(1),
  price_cents: z.int().nonnegative(),
  starting_stock: z.int().nonnegative(),
  restock_threshold: z.int().nonnegative(),
});
export type Product = z.infer<typeof Product>;

const ProductFile = z.array(Product).min(1);

export interface ProductCatalog {
  readonly products: readonly Product[];
  get(id: number): Product | undefined;
}

/** Build a catalog from parsed data; ids must be unique. */
export function createProductCatalog(data: unknown): ProductCatalog {
  const parsed = ProductFile.safeParse(data);
  if (!parsed.success) throw new Error(`invalid product catalog: ${describeIssues(parsed.error)}`);
  const byId = new Map<number, Product>();
  for (const p of parsed.data) {
    if (byId.has(p.id)) throw new Error(`invalid product catalog: duplicate id ${p.id}`);
    byId.set(p.id, Object.freeze(p));
  }
  const products = Object.freeze([...byId.values()]);
  return Object.freeze({ products, get: (id: number) => byId.get(id) });
}
