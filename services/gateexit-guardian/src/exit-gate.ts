import { type ProductCatalog } from '@spectrum-grocers/contract';
import { envPositiveInt, GateEnv, type GateSpec } from '@spectrum-grocers/runtime';
import { contiguousProductIds, refuseUnknownProducts } from './handlers/basket.js';
import { simulatedDeparture } from './handlers/departure.js';

/**
 * The exit gate's own knobs. The simulation scans products 1..PRODUCT_ID_MAX, so a value beyond
 * the catalog stops the gate at start rather than simulating bags that can never be billed.
 */
export function exitGateEnv(catalog: ProductCatalog) {
  const known = contiguousProductIds(catalog);
  return GateEnv.safeExtend({
    /** Simulated products are 1..PRODUCT_ID_MAX (by default the whole catalog). */
    PRODUCT_ID_MAX: envPositiveInt
      .max(known, `must not exceed ${known}: the product catalog has products 1–${known} only`)
      .default(known),
    /** A simulated basket holds 1..BASKET_MAX_ITEMS products. */
    BASKET_MAX_ITEMS: envPositiveInt.default(10),
  });
}

/** The exit gate: a departure per scanned bag, refused when the bag holds a product the catalog does not have. */
export function exitGate(
  catalog: ProductCatalog,
): GateSpec<'gateexit-guardian', 'customer-departure', ReturnType<typeof exitGateEnv>> {
  return {
    service: 'gateexit-guardian',
    event: 'customer-departure',
    env: exitGateEnv(catalog),
    refuse: refuseUnknownProducts(catalog),
    generate: (now, o) =>
      simulatedDeparture(now, Math.random, {
        maxCustomerId: o.CUSTOMER_ID_MAX,
        maxProductId: o.PRODUCT_ID_MAX,
        maxItems: o.BASKET_MAX_ITEMS,
      }),
  };
}
