import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
import {
  collect,
  holdsIntake,
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
import { orderIdFor } from './orders.js';

const chain = 'spectrum-grocers';
const stores = ['north', 'south', 'east'];

interface Health {
  replica: string;
  intake: false | { subscribed: boolean; taken: number };
  stores: string[];
}

// Replicas of logistics as processes, on a 3-node NATS cluster and PostgreSQL, as at HQ.
describe.skipIf(skipWithoutNats || skipWithoutPostgres)('logistics at the head office, in replicas', () => {
  let hq: NatsCluster;
  let db: Postgres;
  let url: string;
  let deliveries: Collector;
  let shops: Collector;
  const replicas = new Map<string, { proc: ServiceProcess; port: number }>();

  async function startReplica(id: string): Promise<void> {
    const proc = spawnService('logistics', { ...hqReplicaEnv(hq, url, chain), REPLICA_ID: id, DELIVERY_LEAD_S: '0' });
    replicas.set(id, { proc, port: await proc.httpPort(30_000) });
  }
  const health = async (id: string): Promise<Health> =>
    (await fetch(`http://127.0.0.1:${replicas.get(id)!.port}/healthz`)).json() as Promise<Health>;
  const orders = async (id: string) =>
    ((await (await fetch(`http://127.0.0.1:${replicas.get(id)!.port}/orders?limit=1`)).json()) as { total: number })
      .total;
  const delivered = () => new Set(deliveries.messages.map((m) => m.json<{ delivery_id: string }>().delivery_id));

  /** `count` alerts of each store, each sent twice (a store's bridge resending after a failover). */
  async function alerts(from: number, count: number): Promise<string[]> {
    const sent: string[] = [];
    for (let i = from; i < from + count; i++) {
      for (const store of stores) {
        const alert = {
          event_id: `alert-${store}-${i}`,
          timestamp: new Date().toISOString(),
          item_id: 1 + (i % 100),
          quantity: 2,
          threshold: 5,
        };
        for (let copy = 0; copy < 2; copy++) await shops.publish(eventTopic({ chain, store }, 'restock-alert'), alert);
        sent.push(orderIdFor(store, alert.event_id));
      }
    }
    return sent;
  }

  beforeAll(async () => {
    [hq, db] = await Promise.all([startNatsCluster(), startPostgres()]);
    url = await db.createDatabase('hq');
    const servers = hq.nodes.map((n) => ({ host: '127.0.0.1', port: n.mqttPort }));
    deliveries = await collect(hq.mqttUrls[2]!, `${chain}/+/stock-delivered`, { protocolVersion: 4, servers });
    shops = await collect(hq.mqttUrls[1]!, [], { protocolVersion: 4, servers });
    await Promise.all(['replica-a', 'replica-b'].map(startReplica));
    // The intake's session must exist before the stores send: MQTT drops what nobody is subscribed to.
    await waitUntil(
      async () => (await Promise.all([...replicas.values()].map((r) => holdsIntake(r.port)))).some(Boolean),
      'a replica to hold the intake',
      30_000,
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([...replicas.values()].map((r) => r.proc.stop('SIGKILL')));
    await deliveries?.close();
    await shops?.close();
    await hq?.dispose();
    await db?.dispose();
  });

  it('orders once per restock alert of every store and sends each store its delivery, the stores split between the replicas', async () => {
    const sent = await alerts(0, 20);
    await waitUntil(async () => (await orders('replica-a')) >= sent.length, `${sent.length} orders`, 30_000);
    await waitUntil(() => delivered().size >= sent.length, `${sent.length} deliveries`, 30_000);
    expect(await orders('replica-b')).toBe(sent.length);
    expect([...delivered()].sort()).toEqual([...sent].sort());
    // Each went to its own store's topic.
    for (const m of deliveries.messages) {
      const store = m.topic.split('/')[1]!;
      const { delivery_id, causation_id } = m.json<{ delivery_id: string; causation_id: string }>();
      expect(causation_id.startsWith(`alert-${store}-`)).toBe(true);
      expect(delivery_id).toBe(orderIdFor(store, causation_id));
    }
    const [a, b] = await Promise.all([health('replica-a'), health('replica-b')]);
    expect([...a.stores, ...b.stores].sort()).toEqual([...stores].sort());
    expect(a.stores.length > 0 && b.stores.length > 0).toBe(true);
    expect([a.intake, b.intake].filter((i) => i !== false)).toHaveLength(1);
  }, 60_000);

  it('keeps every store going past hostile messages: a NUL in an event_id, a 300-character store, a payload over the limit, a value PostgreSQL refuses', async () => {
    const topic = (store: string) => eventTopic({ chain, store }, 'restock-alert');
    const alert = (event_id: string, extra: object = {}) => ({
      event_id,
      timestamp: new Date().toISOString(),
      item_id: 4,
      quantity: 1,
      ...extra,
    });
    const before = await orders('replica-a');
    await shops.publish(topic('north'), alert('nul\u0000id'));
    await shops.publish(topic('x'.repeat(300)), alert('long-store'));
    await shops.publish(topic('north'), { ...alert('huge'), padding: 'x'.repeat(300 * 1024) });
    await shops.publish(topic('south'), alert('too-many', { quantity: 3_000_000_000 }));
    // Behind them, an ordinary alert of each store is still ordered.
    await shops.publish(topic('north'), alert('after-north'));
    await shops.publish(topic('south'), alert('after-south'));
    const wanted = [orderIdFor('north', 'after-north'), orderIdFor('south', 'after-south')];
    await waitUntil(() => wanted.every((id) => delivered().has(id)), 'the ordinary alerts delivered', 30_000);
    expect(await orders('replica-a')).toBe(before + 2);
  }, 60_000);

  it('loses no alert when the replica holding the intake is killed (kill -9): the other takes its stores and the intake over', async () => {
    const ids = [...replicas.keys()];
    const leaderId = (await Promise.all(ids.map(health))).find((h) => h.intake !== false)!.replica;
    const survivor = ids.find((id) => id !== leaderId)!;
    const before = delivered().size;
    const sending = alerts(100, 30);
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = Date.now();
    await replicas.get(leaderId)!.proc.stop('SIGKILL');
    const sent = await sending;
    await waitUntil(
      async () => (await health(survivor)).stores.length === stores.length,
      'the survivor to hold every store',
      30_000,
    );
    await waitUntil(() => delivered().size >= before + sent.length, `${sent.length} more deliveries`, 60_000);
    const tookMs = Date.now() - killedAt;
    expect(await orders(survivor)).toBe(before + sent.length);
    expect(sent.filter((id) => !delivered().has(id))).toEqual([]);
    const h = await health(survivor);
    expect(h.intake).not.toBe(false);
    expect(tookMs).toBeLessThan(60_000);
  }, 90_000);
});
