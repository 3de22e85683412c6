import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
import {
  skipWithoutNats,
  skipWithoutPostgres,
  startNatsCluster,
  startPostgres,
  waitUntil,
  type NatsCluster,
  type PgClient,
  type Postgres,
} from '@spectrum-grocers/testkit';

// The facts the chain's head office is designed on (SPEC "The chain"), with real processes: a
// 3-node NATS cluster as its MQTT broker and PostgreSQL for its state.

const aStore = () => ({ chain: 'spectrum-grocers', store: `store-${randomUUID().slice(0, 8)}` });
/** How HQ's services connect: MQTT 3.1.1, a persistent session, every node to fail over to. */
const hqClient = (clientId: string, ports: readonly number[], more: IClientOptions = {}): IClientOptions => ({
  servers: ports.map((port) => ({ host: '127.0.0.1', port })),
  protocol: 'mqtt',
  protocolVersion: 4,
  clean: false,
  clientId,
  connectTimeout: 3_000,
  reconnectPeriod: 250,
  ...more,
});

describe.skipIf(skipWithoutNats)('a three-node NATS cluster as the head office broker', () => {
  let cluster: NatsCluster;
  const clients: MqttClient[] = [];
  const open = (opts: IClientOptions) => {
    const client = mqtt.connect(opts);
    clients.push(client);
    return client;
  };
  const ready = (client: MqttClient) =>
    new Promise<boolean>((resolve) => client.once('connect', (ack) => resolve(ack.sessionPresent)));

  // Past startNatsCluster's own 25 s limit, so a slow start fails there with its servers stopped.
  beforeAll(async () => {
    cluster = await startNatsCluster();
  }, 40_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });
  afterAll(async () => {
    await cluster?.dispose();
  });

  it('delivers a retained message published on one node to a subscriber on another', async () => {
    const [first, second] = cluster.nodes.filter((n) => n.alive);
    const topic = eventTopic(aStore(), 'restock-alert');
    const publisher = open(hqClient(`retain-pub-${randomUUID()}`, [first!.mqttPort], { clean: true }));
    await publisher.publishAsync(topic, 'last known', { qos: 1, retain: true });

    const subscriber = open(hqClient(`retain-sub-${randomUUID()}`, [second!.mqttPort], { clean: true }));
    const got: { payload: string; retain: boolean }[] = [];
    subscriber.on('message', (_t, payload, packet) => got.push({ payload: payload.toString(), retain: packet.retain }));
    await ready(subscriber);
    const granted = await subscriber.subscribeAsync(topic, { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    await waitUntil(() => got.length > 0, 'the retained message on the other node');
    expect(got).toEqual([{ payload: 'last known', retain: true }]);
  });

  it("keeps a persistent session's queued messages through kill -9 of its node and hands them over on another", async () => {
    await cluster.waitHealthy();
    const [home, ...others] = cluster.nodes;
    const ports = cluster.nodes.map((n) => n.mqttPort);
    const topic = eventTopic(aStore(), 'payment-due');
    const clientId = `hq-ledger-${randomUUID()}`;

    // Subscribe on `home`, then go offline with the session kept.
    const before = open(hqClient(clientId, ports, { reconnectPeriod: 0 }));
    await ready(before);
    expect((before.stream as unknown as Socket).remotePort).toBe(home!.mqttPort);
    expect((await before.subscribeAsync(topic, { qos: 1 })).map((g) => g.qos)).toEqual([1]);
    await before.endAsync();

    const uplinkPorts = others.map((n) => n.mqttPort);
    const publisher = open(hqClient(`uplink-${randomUUID()}`, uplinkPorts));
    for (const n of [1, 2, 3]) await publisher.publishAsync(topic, `bill ${n}`, { qos: 1 });
    await home!.kill();
    // Publishers may lose their connection for a few seconds while leaders move; MQTT.js resends.
    await publisher.publishAsync(topic, 'bill 4', { qos: 1 });

    // The same session again, with the dead node first in its list.
    const after = open(hqClient(clientId, ports));
    const acks: boolean[] = [];
    const bills = new Set<string>();
    after.on('connect', (ack) => acks.push(ack.sessionPresent));
    after.on('message', (_t, payload) => bills.add(payload.toString()));
    // The first tries may time out while the session's stream elects a new leader.
    await waitUntil(() => bills.size === 4, 'the queued bills on another node', 20_000);
    expect([...bills].sort()).toEqual(['bill 1', 'bill 2', 'bill 3', 'bill 4']);
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.every(Boolean)).toBe(true);
    expect((after.stream as unknown as Socket).remotePort).not.toBe(home!.mqttPort);

    await home!.restart();
    await cluster.waitHealthy();
    expect(home!.alive).toBe(true);
  }, 45_000);
});

describe.skipIf(skipWithoutPostgres)('PostgreSQL as the head office store', () => {
  let postgres: Postgres;
  const sessions: PgClient[] = [];
  const session = async (url: string) => {
    const client = await postgres.connect(url);
    // A session whose connection is cut reports it here; unhandled, it would end the test run.
    client.on('error', () => undefined);
    sessions.push(client);
    return client;
  };
  const tryLock = async (client: PgClient, key: number) =>
    (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key])).rows[0]!.locked;

  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterEach(async () => {
    await Promise.all(sessions.splice(0).map((c) => c.end().catch(() => undefined)));
  });
  afterAll(async () => {
    await postgres?.dispose();
  });

  it('creates a fresh database that takes tables and rows', async () => {
    const db = await session(await postgres.createDatabase('hq_ledger'));
    await db.query('CREATE TABLE bills (id text PRIMARY KEY, cents integer NOT NULL)');
    await db.query("INSERT INTO bills VALUES ('b-1', 1250)");
    expect((await db.query('SELECT id, cents FROM bills')).rows).toEqual([{ id: 'b-1', cents: 1250 }]);
  });

  it("lets one session at a time hold an advisory lock and frees it when the holder's connection dies", async () => {
    const url = await postgres.createDatabase('hq_owners');
    const [holder, rival] = [await session(url), await session(url)];
    expect(await tryLock(holder, 42)).toBe(true);
    expect(await tryLock(rival, 42)).toBe(false);
    expect(await tryLock(rival, 43)).toBe(true);

    // As when the holder's process dies: its socket closes without a goodbye.
    holder.connection.stream.destroy();
    await waitUntil(() => tryLock(rival, 42), 'the lock to be freed', 5_000);
  });

  it('keeps committed rows through kill -9 and a restart', async () => {
    const url = await postgres.createDatabase('hq_restock');
    const before = await session(url);
    await before.query('CREATE TABLE orders (id text PRIMARY KEY)');
    await before.query("INSERT INTO orders VALUES ('o-1')");
    await postgres.stop('SIGKILL');
    await postgres.restart();
    const after = await session(url);
    expect((await after.query('SELECT id FROM orders')).rows).toEqual([{ id: 'o-1' }]);
  });
});
