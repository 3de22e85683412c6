/** The big catalog of `pnpm bench`, and departures whose products spread over a whole catalog. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Enough of every product that no bench run ever empties a shelf. */
const STARTING_STOCK = 1_000_000;

/** Write a catalog of products 1..size (as contract/data/products.json) into `dir`; returns its path. */
export function writeCatalog(dir: string, size: number): string {
  const products = Array.from({ length: size }, (_, i) => ({
    id: i + 1,
    name: `bench product ${i + 1}`,
    price_cents: 50 + ((i * 37) % 2000),
    starting_stock: STARTING_STOCK,
    restock_threshold: 10,
  }));
  const file = join(dir, `catalog-${size}.json`);
  writeFileSync(file, JSON.stringify(products));
  return file;
}

/**
 * The `k`th product of departure `i` among products 1..size: a multiplicative hash, so that a
 * few thousand departures touch products all over the catalog, not only its first ids.
 */
export function spreadProductId(i: number, k: number, size: number): number {
  return 1 + ((i * 2_654_435_761 + k * 97_531) % size);
}
