import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createProductCatalog, type ProductCatalog } from '@spectrum-grocers/contract';

const require = createRequire(import.meta.url);
let cached: ProductCatalog | undefined;

/** The store's product catalog, from the contract's `products.json`: ids 1–100, price in cents, starting stock, restock threshold. */
export function loadProductCatalog(): ProductCatalog {
  cached ??= createProductCatalog(
    JSON.parse(readFileSync(require.resolve('@spectrum-grocers/contract/products.json'), 'utf8')),
  );
  return cached;
}
