import { z } from 'zod';
import { schemas, type ProductCatalog } from '@spectrum-grocers/contract';
import type { Pool } from '@spectrum-grocers/hq';
import { route, type HttpRoute } from '@spectrum-grocers/runtime';
import type { Presence } from './presence.js';
import { pricesInForce } from './prices.js';
import { ledgerOf } from './report.js';

const Day = z.object({
  day: z.string().describe('A UTC day, YYYY-MM-DD'),
  payments: z.int().nonnegative(),
  total_cents: z.int().nonnegative(),
});

const StoreLedger = z.object({
  store: z.string(),
  online: z.boolean().describe('Whether any of its services is online'),
  services: z.array(
    z.object({ service: z.string(), status: z.enum(['online', 'offline']), timestamp: z.string().nullable() }),
  ),
  first_seen: z.string().nullable().describe('When the head office first heard of it'),
  payments: z.int().nonnegative().describe('Every payment of the store in the ledger'),
  total_cents: z.int().nonnegative(),
  today: Day,
  days: z.array(Day).describe('The last days, oldest first, today last'),
  stock: z
    .array(
      z.object({
        product_id: schemas.Id,
        name: z.string().nullable(),
        quantity: z.int().nonnegative(),
        threshold: z.int().nonnegative().nullable(),
        reported_at: z.string(),
      }),
    )
    .describe('The latest stock count it reported per product (its restock alerts), newest first'),
  deliveries: z.object({
    count: z.int().nonnegative(),
    quantity: z.int().nonnegative(),
    latest: z.array(
      z.object({
        product_id: schemas.Id,
        name: z.string().nullable(),
        deliveries: z.int().positive(),
        quantity: z.int().positive(),
        last_at: z.string(),
      }),
    ),
  }),
});
export type StoreLedger = z.output<typeof StoreLedger>;

const LedgerBody = z.object({
  chain: z.string(),
  replica: z.string().describe('The replica that answered'),
  generated_at: z.string(),
  days: z.array(z.string()).describe('The UTC days of each store’s `days`, oldest first'),
  stores: z.array(StoreLedger),
  prices: z
    .array(z.looseObject({ scope: z.string(), product_id: schemas.Id, price_cents: z.int() }))
    .describe('The price decisions in force, as GET /prices lists them'),
});

/** GET /ledger: what the page shows, every store with its totals, stock, deliveries and presence. */
export function ledgerRoute(deps: {
  pool: Pool;
  presence: Presence;
  catalog: ProductCatalog;
  chain: string;
  replica: string;
}): HttpRoute {
  return route({
    method: 'GET',
    path: '/ledger',
    summary: 'Every store: online or not, its payments and totals per UTC day, its stock reports and deliveries',
    query: z.object({ days: z.coerce.number().int().min(1).max(92).default(7) }),
    responses: { 200: LedgerBody },
    handler: async ({ query }) => {
      const [ledger, prices] = await Promise.all([
        ledgerOf({ ...deps, days: query.days }),
        pricesInForce(deps.pool, deps.catalog),
      ]);
      const body = {
        chain: deps.chain,
        replica: deps.replica,
        generated_at: new Date().toISOString(),
        ...ledger,
        prices,
      };
      return { status: 200, body };
    },
  });
}
