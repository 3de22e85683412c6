import type { ProductCatalog } from '@spectrum-grocers/contract';
import { inTransaction, type Pool, type Tx } from '@spectrum-grocers/hq';
import type { Presence } from './presence.js';
import type { StoreLedger } from './ledger-route.js';

/** How many of each list a store shows, newest first. */
export const LATEST = 10;

/** pg reads a bigint or a sum as a string. */
type Big = string;
const num = (v: Big | number | null | undefined) => Number(v ?? 0);

interface Seen {
  days: string[];
  perDay: { store: string; day: string; payments: Big; total_cents: Big }[];
  allTime: { store: string; payments: Big; total_cents: Big }[];
  stores: { store: string; first_seen: Date }[];
  stock: { store: string; product_id: Big; quantity: Big; threshold: Big | null; reported_at: Date }[];
  deliveries: {
    store: string;
    product_id: Big;
    deliveries: Big;
    quantity: Big;
    last_at: Date;
    store_count: Big;
    store_quantity: Big;
  }[];
}

const TODAY = `(now() AT TIME ZONE 'UTC')::date`;

/** Every figure of one answer comes from one snapshot of the ledger, each total a sum over its rows. */
async function read(tx: Tx, days: number): Promise<Seen> {
  await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
  const calendar = await tx.query<{ day: string }>(
    `SELECT to_char(d, 'YYYY-MM-DD') AS day
       FROM generate_series(${TODAY} - ($1::int - 1), ${TODAY}, interval '1 day') d ORDER BY d`,
    [days],
  );
  const perDay = await tx.query<Seen['perDay'][number]>(
    `SELECT store, to_char((paid_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day,
            count(*) AS payments, sum(amount_cents) AS total_cents
       FROM ledger_payments
      WHERE paid_at >= ((${TODAY} - ($1::int - 1))::timestamp AT TIME ZONE 'UTC')
      GROUP BY 1, 2`,
    [days],
  );
  const allTime = await tx.query<Seen['allTime'][number]>(
    'SELECT store, count(*) AS payments, sum(amount_cents) AS total_cents FROM ledger_payments GROUP BY store',
  );
  const stores = await tx.query<Seen['stores'][number]>('SELECT store, first_seen FROM ledger_stores');
  const stock = await tx.query<Seen['stock'][number]>(
    `SELECT store, product_id, quantity, threshold, reported_at FROM (
       SELECT *, row_number() OVER (PARTITION BY store ORDER BY reported_at DESC, product_id) AS n FROM ledger_stock
     ) s WHERE n <= $1 ORDER BY store, reported_at DESC, product_id`,
    [LATEST],
  );
  const deliveries = await tx.query<Seen['deliveries'][number]>(
    `SELECT * FROM (
       SELECT store, product_id, count(*) AS deliveries, sum(quantity) AS quantity, max(delivered_at) AS last_at,
              sum(count(*)) OVER (PARTITION BY store) AS store_count,
              sum(sum(quantity)) OVER (PARTITION BY store) AS store_quantity,
              row_number() OVER (PARTITION BY store ORDER BY max(delivered_at) DESC, product_id) AS n
         FROM ledger_deliveries GROUP BY store, product_id
     ) d WHERE n <= $1 ORDER BY store, last_at DESC, product_id`,
    [LATEST],
  );
  return {
    days: calendar.rows.map((r) => r.day),
    perDay: perDay.rows,
    allTime: allTime.rows,
    stores: stores.rows,
    stock: stock.rows,
    deliveries: deliveries.rows,
  };
}

function groupBy<T extends { store: string }>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) out.set(r.store, [...(out.get(r.store) ?? []), r]);
  return out;
}

/** One store's part of what was read. */
function storeLedger(
  store: string,
  seen: Seen & { byStore: ReturnType<typeof index> },
  presence: Presence,
  catalog: ProductCatalog,
): StoreLedger {
  const { perDay, allTime, firstSeen, stock, deliveries } = seen.byStore;
  const nameOf = (id: Big) => catalog.get(Number(id))?.name ?? null;
  const byDay = new Map((perDay.get(store) ?? []).map((d) => [d.day, d]));
  const days = seen.days.map((day) => ({
    day,
    payments: num(byDay.get(day)?.payments),
    total_cents: num(byDay.get(day)?.total_cents),
  }));
  const delivered = deliveries.get(store) ?? [];
  return {
    store,
    online: presence.online(store),
    services: presence.services(store),
    first_seen: firstSeen.get(store)?.toISOString() ?? null,
    payments: num(allTime.get(store)?.payments),
    total_cents: num(allTime.get(store)?.total_cents),
    today: days[days.length - 1]!,
    days,
    stock: (stock.get(store) ?? []).map((s) => ({
      product_id: num(s.product_id),
      name: nameOf(s.product_id),
      quantity: num(s.quantity),
      threshold: s.threshold === null ? null : num(s.threshold),
      reported_at: s.reported_at.toISOString(),
    })),
    deliveries: {
      count: num(delivered[0]?.store_count),
      quantity: num(delivered[0]?.store_quantity),
      latest: delivered.map((d) => ({
        product_id: num(d.product_id),
        name: nameOf(d.product_id),
        deliveries: num(d.deliveries),
        quantity: num(d.quantity),
        last_at: d.last_at.toISOString(),
      })),
    },
  };
}

function index(seen: Seen) {
  return {
    perDay: groupBy(seen.perDay),
    allTime: new Map(seen.allTime.map((r) => [r.store, r])),
    firstSeen: new Map(seen.stores.map((r) => [r.store, r.first_seen])),
    stock: groupBy(seen.stock),
    deliveries: groupBy(seen.deliveries),
  };
}

/**
 * The head office's view of every store it has heard of, by an event or a status: its ledger,
 * from PostgreSQL, and whether it is online, from this replica's statuses.
 */
export async function ledgerOf(deps: {
  pool: Pool;
  presence: Presence;
  catalog: ProductCatalog;
  days: number;
}): Promise<{ days: string[]; stores: StoreLedger[] }> {
  const seen = await inTransaction(deps.pool, (tx) => read(tx, deps.days));
  const indexed = { ...seen, byStore: index(seen) };
  const names = [...new Set([...indexed.byStore.firstSeen.keys(), ...deps.presence.stores()])].sort();
  return { days: seen.days, stores: names.map((s) => storeLedger(s, indexed, deps.presence, deps.catalog)) };
}
