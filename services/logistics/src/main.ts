import { z } from 'zod';
import { runHqService } from '@spectrum-grocers/hq';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { createAlertHandler, ORDERS_SCHEMA, ordersRoute } from './orders.js';

runHqService({
  service: 'logistics',
  env: z.object({
    /** Seconds from an order to its delivery at the store (the single store's simulated supplier's default). */
    DELIVERY_LEAD_S: z.coerce.number().nonnegative().max(86_400).default(60),
  }),
  schema: ORDERS_SCHEMA,
  consumes: ({ config, log }) => ({
    'restock-alert': createAlertHandler({
      catalog: loadProductCatalog(config.catalogFile),
      chain: config.topics.chain,
      leadTimeMs: config.options.DELIVERY_LEAD_S * 1000,
      clock: () => new Date(),
      log,
    }),
  }),
  http: ({ pool }) => [ordersRoute(pool)],
});
