import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainWideTopic, eventTopic, schemas, statusTopic } from '@spectrum-grocers/contract';
import {
  collect,
  hqReplicaEnv,
  skipWithoutNats,
  skipWithoutPostgres,
  spawnService,
  startNatsCluster,
  startPostgres,
  waitUntil,
  type Collector,
  type NatsCluster,
  type Postgres,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';

const chain = 'spectrum-grocers';
const DAY_MS = 86_400_000;

interface Day {
  day: string;
  payments: number;
  total_cents: number;
}
interface StoreLedger {
  store: string;
  online: boolean;
  services: { service: string; status: string }[];
  payments: number;
  total_cents: number;
  today: Day;
  days: Day[];
  stock: { product_id: number; quantity: number }[];
  deliveries: { count: number; quantity: number };
}
interface Health {
  watching: boolean;
  intake: false | { subscribed: boolean };
}
interface Decision {
  event_id: string;
  scope: string;
  product_id: number;
  price_cents: number;
  decided_at: string;
}

// Replicas of the head office as processes, on a 3-node NATS cluster and PostgreSQL, as at HQ.
describe.skipIf(skipWithoutNats || skipWithoutPostgres)('the head office, in replicas', () => {
  let hq: NatsCluster;
  let db: Postgres;
  let url: string;
  let shops: Collector;
  let prices: Collector;
  const replicas = new Map<string, { proc: ServiceProcess; port: number }>();

  async function startReplica(id: string): Promise<void> {
    const proc = spawnService('head-office', { ...hqReplicaEnv(hq, url, chain), REPLICA_ID: id });
    replicas.set(id, { proc, port: await proc.httpPort(30_000) });
  }
  const at = (id: string, path: string) => `http://127.0.0.1:${replicas.get(id)!.port}${path}`;
  const ledger = async (id: string) =>
    ((await (await fetch(at(id, '/ledger'))).json()) as { stores: StoreLedger[] }).stores;
  const storeOf = async (id: string, store: string) => (await ledger(id)).find((s) => s.store === store);
  async function post(id: string, body: unknown, type = 'application/json') {
    const res = await fetch(at(id, '/prices'), {
      method: 'POST',
      headers: { 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: string; event_id?: string; topic?: string } };
  }
  const inForce = async () =>
    ((await (await fetch(at('replica-a', '/prices'))).json()) as { prices: Decision[] }).prices;
  const status = (store: string, service: string, online: boolean) =>
    shops.publish(
      statusTopic({ chain, store }, service),
      { service, status: online ? 'online' : 'offline', timestamp: new Date().toISOString() },
      { retain: true },
    );

  beforeAll(async () => {
    [hq, db] = await Promise.all([startNatsCluster(), startPostgres()]);
    url = await db.createDatabase('hq');
    const servers = hq.nodes.map((n) => ({ host: '127.0.0.1', port: n.mqttPort }));
    prices = await collect(hq.mqttUrls[2]!, `${chain}/+/price-change`, { protocolVersion: 4, servers });
    shops = await collect(hq.mqttUrls[1]!, [], { protocolVersion: 4, servers });
    await Promise.all(['replica-a', 'replica-b'].map(startReplica));
    // What is published before the intake's session exists reaches no one.
    await waitUntil(
      async () => {
        const health = await Promise.all(
          [...replicas.keys()].map(async (id) => (await (await fetch(at(id, '/healthz'))).json()) as Health),
        );
        // …and every replica to read the stores' statuses, which the page's presence comes from.
        return health.some((h) => h.intake !== false && h.intake.subscribed) && health.every((h) => h.watching);
      },
      'a replica to hold the intake, subscribed, and every replica to watch the statuses',
      30_000,
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([...replicas.values()].map((r) => r.proc.stop('SIGKILL')));
    await prices?.close();
    await shops?.close();
    await hq?.dispose();
    await db?.dispose();
  });

  it('records the payments of three stores once each, though each came twice, and totals them per store and UTC day', async () => {
    const now = Date.now();
    // Days ago of each payment, per store.
    const plan: Record<string, number[]> = { north: [0, 0, 1, 3], south: [0, 2, 9], east: [1, 1, 1] };
    const sent: { store: string; body: Record<string, unknown>; cents: number; day: string }[] = [];
    for (const [store, ages] of Object.entries(plan)) {
      ages.forEach((age, i) => {
        const cents = 1000 * (i + 1) + store.length * 7;
        const timestamp = new Date(now - age * DAY_MS).toISOString();
        const day = timestamp.slice(0, 10);
        sent.push({
          store,
          cents,
          day,
          body: {
            event_id: `pay-${store}-${i}`,
            timestamp,
            customer_id: 1 + i,
            amount: cents / 100,
            amount_cents: cents,
          },
        });
      });
    }
    // As the original Python fastlane-finale sends it: no event_id, no cents, a local time.
    const original = { timestamp: new Date(now).toISOString().slice(0, 19), customer_id: 9, amount: 5.5 };
    sent.push({ store: 'south', cents: 550, day: original.timestamp.slice(0, 10), body: original });
    for (let copy = 0; copy < 2; copy++) {
      for (const p of sent) await shops.publish(eventTopic({ chain, store: p.store }, 'payment-due'), p.body);
    }

    const stores = await waitUntil(async () => {
      const all = await ledger('replica-b');
      return all.reduce((n, s) => n + s.payments, 0) >= sent.length ? all : undefined;
    }, `${sent.length} payments in the ledger`);
    for (const store of Object.keys(plan)) {
      const mine = sent.filter((p) => p.store === store);
      const s = stores.find((x) => x.store === store)!;
      expect(s.payments).toBe(mine.length);
      expect(s.total_cents).toBe(mine.reduce((sum, p) => sum + p.cents, 0));
      expect(s.days).toHaveLength(7);
      for (const d of s.days) {
        const that = mine.filter((p) => p.day === d.day);
        expect(d, `${store} on ${d.day}`).toEqual({
          day: d.day,
          payments: that.length,
          total_cents: that.reduce((sum, p) => sum + p.cents, 0),
        });
      }
      expect(s.today.day).toBe(new Date().toISOString().slice(0, 10));
    }
    const pg = await db.connect(url);
    try {
      const rows = await pg.query<{ store: string; n: string }>(
        'SELECT store, count(*) AS n FROM ledger_payments GROUP BY store ORDER BY store',
      );
      expect(rows.rows.map((r) => [r.store, Number(r.n)])).toEqual([
        ['east', 3],
        ['north', 4],
        ['south', 4],
      ]);
    } finally {
      await pg.end();
    }
  });

  it("keeps each store's last reported stock count per product, and every delivery seen at HQ once", async () => {
    const alert = (quantity: number, minutesAgo: number) => ({
      event_id: `alert-north-${quantity}`,
      timestamp: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
      item_id: 3,
      quantity,
      threshold: 10,
    });
    // The oldest report comes last, as a redelivery after a failover may bring it.
    for (const a of [alert(8, 2), alert(5, 1), alert(9, 3)]) {
      await shops.publish(eventTopic({ chain, store: 'north' }, 'restock-alert'), a);
    }
    const delivery = (id: string, quantity: number) => ({
      event_id: `delivered-${id}`,
      timestamp: new Date().toISOString(),
      delivery_id: id,
      product_id: 3,
      quantity,
    });
    for (const d of [delivery('order-1', 45), delivery('order-1', 45), delivery('order-2', 40)]) {
      await shops.publish(eventTopic({ chain, store: 'north' }, 'stock-delivered'), d);
    }
    const north = await waitUntil(async () => {
      const s = await storeOf('replica-a', 'north');
      return s && s.deliveries.count === 2 && s.stock.length === 1 ? s : undefined;
    }, 'north’s stock report and deliveries');
    await new Promise((r) => setTimeout(r, 500)); // the last, older report too
    expect((await storeOf('replica-a', 'north'))!.stock).toMatchObject([{ product_id: 3, quantity: 5 }]);
    expect(north.deliveries).toMatchObject({ count: 2, quantity: 85 });
  });

  it('shows which stores are online from their retained statuses, on every replica, one started later too', async () => {
    await status('north', 'fastlane-finale', true);
    await status('north', 'inventory-intel', false);
    await status('south', 'fastlane-finale', false);
    await status('east', 'hello-helper', true);
    const online = async (id: string) =>
      Object.fromEntries((await ledger(id)).map((s) => [s.store, s.online] as const));
    // What each replica last showed, for the message of a wait that times out.
    const seen = new Map<string, unknown>();
    const asExpected = async (id: string, east: boolean) => {
      const o = await online(id);
      seen.set(id, o);
      return o.north === true && o.south === false && o.east === east;
    };
    const waitFor = (id: string, east: boolean, what: string) =>
      waitUntil(() => asExpected(id, east), what, 20_000).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; it showed ${JSON.stringify(seen.get(id))}`);
      });
    for (const id of ['replica-a', 'replica-b']) await waitFor(id, true, `${id}’s view`);
    expect((await storeOf('replica-b', 'north'))!.services).toMatchObject([
      { service: 'fastlane-finale', status: 'online' },
      { service: 'inventory-intel', status: 'offline' },
    ]);
    await status('east', 'hello-helper', false);
    await waitFor('replica-a', false, 'east offline');
    await startReplica('replica-c');
    await waitFor('replica-c', false, 'a new replica to read the retained statuses');
    await replicas.get('replica-c')!.proc.stop();
    replicas.delete('replica-c');
  }, 60_000);

  it('publishes one price-change for one store and one for the whole chain, each on its own topic', async () => {
    const one = await post('replica-a', { product_id: 3, price_cents: 199, store: 'north' });
    const all = await post('replica-b', { product_id: 4, price_cents: 250 });
    expect([one.status, all.status]).toEqual([202, 202]);
    const northTopic = eventTopic({ chain, store: 'north' }, 'price-change');
    const chainTopic = chainWideTopic(chain, 'price-change');
    expect([one.body.topic, all.body.topic]).toEqual([northTopic, chainTopic]);
    const [north] = await prices.waitFor(northTopic, 1);
    const [everywhere] = await prices.waitFor(chainTopic, 1);
    await new Promise((r) => setTimeout(r, 1000)); // no second copy from another replica
    expect(prices.messages.map((m) => m.topic).sort()).toEqual([chainTopic, northTopic]);
    const decisions = await inForce();
    for (const [msg, sent, scope] of [
      [north!, one, 'north'],
      [everywhere!, all, 'all-stores'],
    ] as const) {
      const decision = decisions.find((d) => d.event_id === sent.body.event_id)!;
      expect(decision.scope).toBe(scope);
      expect(msg.json()).toEqual({
        event_id: decision.event_id,
        timestamp: decision.decided_at,
        product_id: decision.product_id,
        price_cents: decision.price_cents,
      });
    }
  });

  it('refuses a bad price change with 400 or 404 saying why, and publishes nothing for it', async () => {
    const before = prices.messages.length;
    const refusals: [unknown, number, RegExp][] = [
      [{ product_id: 3, price_cents: 100, store: 'nowhere' }, 404, /store: "nowhere" is not a store/],
      [{ product_id: 99_999, price_cents: 100 }, 404, /product_id: 99999 is not in the catalog/],
      [{ product_id: 3, price_cents: schemas.MAX_PRICE_CENTS + 1 }, 400, /price_cents/],
      [{ product_id: 3, price_cents: -1 }, 400, /price_cents/],
      [{ product_id: 3, price_cents: 1.5 }, 400, /price_cents/],
      [{ price_cents: 100 }, 400, /product_id/],
      [{ product_id: 3, price_cents: 100, store: 'all-stores' }, 400, /store: "all-stores" is the whole chain/],
      [{ product_id: 3, price_cents: 100, store: 'a/b' }, 400, /store: must be one topic level/],
      [{ product_id: 3, price_cents: 100, colour: 'red' }, 400, /colour/],
      ['{"product_id": 3,', 400, /body is not valid JSON/],
    ];
    for (const [body, code, error] of refusals) {
      const res = await post('replica-a', body);
      expect({ sent: body, ...res }).toMatchObject({
        status: code,
        body: { error: expect.stringMatching(error) as string },
      });
    }
    expect((await post('replica-a', 'product_id=3', 'text/plain')).status).toBe(415);
    await new Promise((r) => setTimeout(r, 600));
    expect(prices.messages.length).toBe(before);
    expect(await inForce()).toHaveLength(2);
  });

  it('sends a store first heard of after a chain-wide change that change, on its own topic, with its decision time', async () => {
    const later = await post('replica-b', { product_id: 5, price_cents: 333 });
    expect(later.status).toBe(202);
    const chainWide = (await inForce()).filter((d) => d.scope === 'all-stores');
    expect(chainWide.map((d) => d.product_id)).toEqual([4, 5]);
    // One new store heard of by its first payment, another only by its status.
    await shops.publish(eventTopic({ chain, store: 'west' }, 'payment-due'), {
      event_id: 'pay-west-0',
      timestamp: new Date().toISOString(),
      customer_id: 1,
      amount: 1,
    });
    await status('harbour', 'fastlane-finale', true);
    for (const store of ['west', 'harbour']) {
      const got = await prices.waitFor(eventTopic({ chain, store }, 'price-change'), chainWide.length, 20_000);
      expect(got.map((m) => m.json()).sort((a, b) => Number(a.product_id) - Number(b.product_id))).toEqual(
        chainWide.map((d) => ({
          event_id: d.event_id,
          timestamp: d.decided_at,
          product_id: d.product_id,
          price_cents: d.price_cents,
        })),
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
    // Once each, and none to a store that was there when the change went out.
    expect(prices.on(eventTopic({ chain, store: 'west' }, 'price-change'))).toHaveLength(chainWide.length);
    expect(prices.on(eventTopic({ chain, store: 'harbour' }, 'price-change'))).toHaveLength(chainWide.length);
    expect(prices.on(eventTopic({ chain, store: 'north' }, 'price-change'))).toHaveLength(1);
    expect((await post('replica-a', { product_id: 6, price_cents: 120, store: 'harbour' })).status).toBe(202);
  }, 60_000);
});
