import { type Event, type ProductCatalog } from '@spectrum-grocers/contract';

/** The ids in `productIds` the catalog does not have, each once, in the order they first appear. */
export function unknownProducts(catalog: ProductCatalog, productIds: readonly number[]): number[] {
  return [...new Set(productIds)].filter((id) => catalog.get(id) === undefined);
}

/**
 * Why the exit gate refuses a scanned bag: a product the catalog does not have can never be
 * priced, so its departure could never be billed (fastlane-finale would dead-letter it).
 */
export function refuseUnknownProducts(
  catalog: ProductCatalog,
): (scan: Event<'customer-departure'>) => string | undefined {
  return (scan) => {
    const unknown = unknownProducts(catalog, scan.product_ids);
    return unknown.length === 0 ? undefined : `product_ids not in the product catalog: ${unknown.join(', ')}`;
  };
}

/** The largest n such that the catalog has every product 1..n: the ids a simulated bag may hold. */
export function contiguousProductIds(catalog: ProductCatalog): number {
  let n = 0;
  while (catalog.get(n + 1) !== undefined) n++;
  return n;
}
