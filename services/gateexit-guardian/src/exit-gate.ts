import { AppError, type ProductCatalog } from '@spectrum-grocers/contract';
import {
  envPositiveInt,
  gateService,
  GateEnv,
  loadProductCatalog,
  OUTBOX_BY_EVENT_ID,
  type GateSpec,
  type ServiceContext,
  type ServiceSpec,
} from '@spectrum-grocers/runtime';
import { contiguousProductIds, refuseUnknownProducts } from './handlers/basket.js';
import { simulatedDeparture } from './handlers/departure.js';

/** The exit gate's own knobs. */
export const ExitGateEnv = GateEnv.safeExtend({
  /** Simulated products are 1..PRODUCT_ID_MAX (by default the whole catalog, checked by `productIdMax`). */
  PRODUCT_ID_MAX: envPositiveInt.optional(),
  /** A simulated basket holds 1..BASKET_MAX_ITEMS products. */
  BASKET_MAX_ITEMS: envPositiveInt.default(10),
});
type ExitGateOptions = ServiceContext<typeof ExitGateEnv>['config']['options'];

/**
 * The products a simulated bag may hold: 1..PRODUCT_ID_MAX, by default every product 1..n the
 * catalog has. A value beyond the catalog stops the gate at start (CONFIG_INVALID) rather than
 * simulating bags that can never be billed.
 */
export function productIdMax(catalog: ProductCatalog, options: Pick<ExitGateOptions, 'PRODUCT_ID_MAX'>): number {
  const known = contiguousProductIds(catalog);
  const max = options.PRODUCT_ID_MAX ?? known;
  if (max > known) {
    throw new AppError(
      'CONFIG_INVALID',
      `PRODUCT_ID_MAX: must not exceed ${known}: the product catalog has products 1–${known} only`,
    );
  }
  return max;
}

/** The exit gate: a departure per scanned bag, refused when the bag holds a product the catalog does not have. */
export function exitGate(
  catalog: ProductCatalog,
  options: Pick<ExitGateOptions, 'PRODUCT_ID_MAX'> = {},
): GateSpec<'gateexit-guardian', 'customer-departure', typeof ExitGateEnv> {
  const maxProductId = productIdMax(catalog, options);
  return {
    service: 'gateexit-guardian',
    event: 'customer-departure',
    env: ExitGateEnv,
    refuse: refuseUnknownProducts(catalog),
    generate: (now, o) =>
      simulatedDeparture(now, Math.random, {
        maxCustomerId: o.CUSTOMER_ID_MAX,
        maxProductId,
        maxItems: o.BASKET_MAX_ITEMS,
      }),
  };
}

/**
 * The exit gate as a service. Its catalog is CATALOG_FILE's, known only once the config is
 * parsed: the gate is built from it in the first hook that runs, and once.
 */
export function exitGateService(): ServiceSpec<'gateexit-guardian', typeof ExitGateEnv> {
  type Ctx = ServiceContext<typeof ExitGateEnv>;
  let built: ServiceSpec<'gateexit-guardian', typeof ExitGateEnv> | undefined;
  const gateOf = ({ config }: Ctx) =>
    (built ??= gateService(exitGate(loadProductCatalog(config.catalogFile), config.options)));
  return {
    service: 'gateexit-guardian',
    env: ExitGateEnv,
    // As every gate's (gateService): a sensor's retried scan is stored once.
    schema: OUTBOX_BY_EVENT_ID,
    publishes: ['customer-departure'],
    http: (ctx) => gateOf(ctx).http?.(ctx) ?? [],
    run: (ctx, signal) => gateOf(ctx).run?.(ctx, signal) ?? Promise.resolve(),
  };
}
