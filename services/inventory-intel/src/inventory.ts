import { z } from 'zod';
import { AppError, schemas } from '@spectrum-grocers/contract';
import { ErrorBody, loadProductCatalog, route, type ServiceContext, type ServiceSpec } from '@spectrum-grocers/runtime';
import { createDeliveryDesk, createSupplier, DELIVERIES_SCHEMA } from './deliveries.js';
import { createDepartureHandler } from './handlers/customer-departure.js';
import { createDeliveryHandler } from './handlers/stock-delivered.js';
import { createShelves, STOCK_SCHEMA, stockState } from './stock.js';

export const InventoryEnv = z.object({
  /**
   * Seconds after a restock alert when the simulated supplier delivers; `off` when deliveries
   * come from elsewhere (POST /deliveries, a head office).
   */
  RESTOCK_DELAY_S: z
    .union([z.literal('off'), z.coerce.number().nonnegative().max(86_400)])
    .default(60)
    .transform((s) => (s === 'off' ? undefined : s)),
});

type Ctx = ServiceContext<typeof InventoryEnv>;

/** What GET /stock answers: one row per product the store stocks. */
const StockBody = z.array(
  z.object({
    product_id: schemas.Id,
    name: z.string(),
    quantity: z.int().nonnegative(),
    threshold: z.int().nonnegative(),
    state: z.enum(['out', 'low', 'ok']).describe('out: none left; low: under the restock threshold'),
  }),
);

const DeliveryBody = z.object({
  product_id: schemas.Id,
  quantity: z.int().positive().max(schemas.MAX_DELIVERY_QUANTITY),
  delivery_id: schemas.EventId.optional().describe("The supplier's reference; one is made when none is given"),
});

const DeliveryAccepted = z.object({
  delivery_id: schemas.EventId,
  event_id: schemas.EventId.describe('The stock-delivered event that carries it'),
});

/** The shelves, the delivery desk and the simulated supplier of one running inventory-intel. */
function build({ db, outbox, config, log }: Ctx, clock: () => Date) {
  const catalog = loadProductCatalog(config.catalogFile);
  const shelves = createShelves(db);
  shelves.seed(catalog);
  const desk = createDeliveryDesk(db, outbox, catalog, clock);
  const delay = config.options.RESTOCK_DELAY_S;
  const supplier =
    delay === undefined ? undefined : createSupplier({ db, outbox, desk, catalog, delayMs: delay * 1000, clock, log });
  return { shelves, desk, supplier };
}

/**
 * inventory-intel: takes departures off the shelves (a restock alert per crossing), puts
 * deliveries on them (once per delivery id), and takes deliveries by HTTP or from its simulated
 * supplier, publishing them so they reach the shelves as anyone else's do.
 */
export function inventorySpec(
  clock: () => Date = () => new Date(),
): ServiceSpec<'inventory-intel', typeof InventoryEnv> {
  // Built once per start, from the first hook that needs them.
  let parts: ReturnType<typeof build> | undefined;
  const partsOf = (ctx: Ctx) => (parts ??= build(ctx, clock));
  return {
    service: 'inventory-intel',
    env: InventoryEnv,
    schema: STOCK_SCHEMA + DELIVERIES_SCHEMA,
    publishes: ['restock-alert', 'stock-delivered'],
    consumes: (ctx) => {
      const { shelves, supplier } = partsOf(ctx);
      return {
        'customer-departure': createDepartureHandler({
          shelves,
          clock,
          log: ctx.log,
          onAlert: supplier && ((alert) => supplier.order(alert)),
        }),
        'stock-delivered': createDeliveryHandler({ shelves, clock, log: ctx.log }),
      };
    },
    http: (ctx) => {
      const { shelves, desk } = partsOf(ctx);
      return [
        route({
          method: 'GET',
          path: '/stock',
          summary: 'The shelves as they are now: each product, how many are left, and its restock threshold',
          responses: { 200: StockBody },
          handler: () => ({ status: 200, body: shelves.read().map((row) => ({ ...row, state: stockState(row) })) }),
        }),
        route({
          method: 'POST',
          path: '/deliveries',
          summary: 'Goods arrived for one product: committed, then published as stock-delivered',
          description:
            'The stock rises when inventory-intel reads the event back, once per delivery_id. The same ' +
            'delivery sent again is answered 202 again and changes nothing; other goods under a known ' +
            'delivery_id are refused with 409.',
          body: DeliveryBody,
          responses: { 202: DeliveryAccepted, 400: ErrorBody, 409: ErrorBody },
          handler: async ({ body }) => {
            try {
              // Answered once on disk; deliveries posted together share the commit.
              const accepted = await ctx.commits.run(() =>
                desk.accept({ productId: body.product_id, quantity: body.quantity, deliveryId: body.delivery_id }),
              );
              return { status: 202, body: { delivery_id: accepted.deliveryId, event_id: accepted.eventId } };
            } catch (err) {
              // The desk's refusals: a request it cannot take (400), or other goods under a known id (409).
              if (err instanceof AppError && err.code === 'UNKNOWN_PRODUCT') {
                return { status: 400, body: { error: err.message } };
              }
              if (err instanceof AppError && err.code === 'DELIVERY_CONFLICT') {
                return { status: 409, body: { error: err.message } };
              }
              throw err;
            }
          },
        }),
      ];
    },
    health: (ctx) => {
      const supplier = partsOf(ctx).supplier;
      return supplier ? { supplier: supplier.stats() } : {};
    },
    run: (ctx, signal) => partsOf(ctx).supplier?.run(signal) ?? Promise.resolve(),
  };
}
