import { z } from 'zod';
import {
  ALL_STORES,
  chainWideTopic,
  eventTopic,
  newEventId,
  schemas,
  type Event,
  type ProductCatalog,
} from '@spectrum-grocers/contract';
import { enqueue, inTransaction, type HqOutgoing, type Pool, type Tx } from '@spectrum-grocers/hq';
import { route, type HttpRoute, type Logger } from '@spectrum-grocers/runtime';
import type { Welcome } from './ledger.js';

export const SERVICE = 'head-office';

/**
 * Every price decision, kept: `store` null is the whole chain. `decided_at` is the database's
 * clock, in milliseconds (what fastlane-finale compares), so that decisions taken on different
 * replicas are ordered by one clock.
 */
export const PRICES_SCHEMA = `
CREATE TABLE IF NOT EXISTS price_changes (
  event_id    text PRIMARY KEY,
  store       text,
  product_id  bigint NOT NULL,
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  decided_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS price_changes_in_force ON price_changes (store, product_id, decided_at DESC);
`;

/** A decision as pg reads it: a bigint comes as a string. */
interface DecisionRow {
  event_id: string;
  store: string | null;
  product_id: string;
  price_cents: number;
  decided_at: Date;
}

/**
 * The latest decision per scope and product, the tie broken by event_id as fastlane-finale
 * breaks it (bytewise, hence COLLATE "C"). A store's own decision is in force only while no
 * later chain-wide one overrides it: a store keeps the latest decision per product, whatever
 * its scope.
 */
const IN_FORCE = `
WITH latest AS (
  SELECT DISTINCT ON (store, product_id) event_id, store, product_id, price_cents, decided_at
    FROM price_changes
   ORDER BY store, product_id, decided_at DESC, event_id COLLATE "C" DESC
)
SELECT l.* FROM latest l
 WHERE l.store IS NULL OR NOT EXISTS (
   SELECT 1 FROM latest c
    WHERE c.store IS NULL AND c.product_id = l.product_id
      AND (c.decided_at, c.event_id COLLATE "C") > (l.decided_at, l.event_id COLLATE "C"))
 ORDER BY l.store NULLS FIRST, l.product_id`;

const payloadOf = (d: DecisionRow): Event<'price-change'> => ({
  event_id: d.event_id,
  timestamp: d.decided_at.toISOString(),
  product_id: Number(d.product_id),
  price_cents: d.price_cents,
});

/**
 * What a store heard of for the first time is sent: each chain-wide price in force, on its own
 * topic, as the decision it is (same event_id and time). A store that was not linked when the
 * change went out on `all-stores` gets it now; one that had it keeps the latest decision per
 * product, so the copy changes nothing.
 */
export function chainPricesFor(chain: string): Welcome {
  return async (tx: Tx, store: string): Promise<HqOutgoing[]> => {
    const rows = await tx.query<DecisionRow>(
      `SELECT DISTINCT ON (product_id) event_id, store, product_id, price_cents, decided_at
         FROM price_changes WHERE store IS NULL
        ORDER BY product_id, decided_at DESC, event_id COLLATE "C" DESC`,
    );
    const topic = eventTopic({ chain, store }, 'price-change');
    return rows.rows.map((d) => ({ topic, eventId: d.event_id, payload: payloadOf(d), store }));
  };
}

/** A store's name as a topic level; `all-stores` is the chain, asked for by leaving `store` out. */
const StoreName = z
  .string()
  .regex(/^[^/+#\s]{1,128}$/, 'must be one topic level: no /, +, # or spaces, at most 128 characters')
  .refine((s) => s !== ALL_STORES, `"${ALL_STORES}" is the whole chain: leave store out`);

const PriceBody = z.strictObject({
  product_id: schemas.Id,
  price_cents: z.int().nonnegative().max(schemas.MAX_PRICE_CENTS),
  store: StoreName.optional().describe('One store; absent, the whole chain'),
});

const Decision = z.object({
  event_id: schemas.EventId,
  scope: z.string().describe(`A store, or ${ALL_STORES} for the whole chain`),
  store: z.string().nullable(),
  product_id: schemas.Id,
  name: z.string().nullable().describe('Its name in the catalog'),
  price_cents: z.int().nonnegative(),
  decided_at: z.string(),
});
export type Decision = z.output<typeof Decision>;

const NotFound = z.object({ error: z.string() }).describe('An unknown store or product');

/** The decisions in force, per scope (the chain first, then each store). */
export async function pricesInForce(pool: Pool, catalog: ProductCatalog): Promise<Decision[]> {
  const rows = await pool.query<DecisionRow>(IN_FORCE);
  return rows.rows.map((d) => ({
    event_id: d.event_id,
    scope: d.store ?? ALL_STORES,
    store: d.store,
    product_id: Number(d.product_id),
    name: catalog.get(Number(d.product_id))?.name ?? null,
    price_cents: d.price_cents,
    decided_at: d.decided_at.toISOString(),
  }));
}

/**
 * Commit a decision and its price-change in one transaction; undefined when the store is not one
 * this service has heard of: no replica would own its outbox rows, so none would send them.
 */
async function decide(
  tx: Tx,
  chain: string,
  body: z.output<typeof PriceBody>,
): Promise<(DecisionRow & { topic: string }) | undefined> {
  const { store } = body;
  if (store !== undefined) {
    const known = await tx.query('SELECT 1 FROM hq_stores WHERE service = $1 AND store = $2', [SERVICE, store]);
    if (known.rowCount === 0) return undefined;
  }
  const added = await tx.query<DecisionRow>(
    `INSERT INTO price_changes (event_id, store, product_id, price_cents, decided_at)
     VALUES ($1, $2, $3, $4, date_trunc('milliseconds', clock_timestamp()))
     RETURNING event_id, store, product_id, price_cents, decided_at`,
    [newEventId(), store ?? null, body.product_id, body.price_cents],
  );
  const decision = added.rows[0]!;
  const topic =
    store === undefined ? chainWideTopic(chain, 'price-change') : eventTopic({ chain, store }, 'price-change');
  await enqueue(tx, SERVICE, [
    { topic, eventId: decision.event_id, payload: payloadOf(decision), store: store ?? ALL_STORES },
  ]);
  return { ...decision, topic };
}

/**
 * POST /prices: a decision and its price-change, committed in one transaction (the outbox sends
 * it once the broker is there); GET /prices: the decisions in force.
 */
export function priceRoutes(deps: { pool: Pool; chain: string; catalog: ProductCatalog; log: Logger }): HttpRoute[] {
  const { pool, chain, catalog, log } = deps;
  const post = route({
    method: 'POST',
    path: '/prices',
    summary: "Set a product's price for one store, or for the whole chain when store is left out",
    body: PriceBody,
    responses: {
      202: z.object({ event_id: schemas.EventId, topic: z.string(), decided_at: z.string() }),
      404: NotFound,
    },
    handler: async ({ body }) => {
      if (!catalog.get(body.product_id)) {
        return { status: 404, body: { error: `product_id: ${body.product_id} is not in the catalog` } };
      }
      const decision = await inTransaction(pool, (tx) => decide(tx, chain, body));
      if (decision === undefined) {
        return { status: 404, body: { error: `store: "${body.store}" is not a store the head office has heard of` } };
      }
      const scope = decision.store ?? 'the whole chain';
      log.info(
        { store: decision.store ?? ALL_STORES, productId: decision.product_id, priceCents: decision.price_cents },
        `price of product ${decision.product_id} set to ${decision.price_cents} cents for ${scope}`,
      );
      return {
        status: 202,
        body: { event_id: decision.event_id, topic: decision.topic, decided_at: decision.decided_at.toISOString() },
      };
    },
  });
  const list = route({
    method: 'GET',
    path: '/prices',
    summary:
      'The price decisions in force: the whole chain’s, then each store’s own that no later chain-wide one overrides',
    responses: { 200: z.object({ prices: z.array(Decision) }) },
    handler: async () => ({ status: 200, body: { prices: await pricesInForce(pool, catalog) } }),
  });
  return [post, list];
}
