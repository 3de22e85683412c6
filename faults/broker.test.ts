import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventTopic, statusTopic } from '@spectrum-grocers/contract';
import { collect, waitUntil, type Collector } from '@spectrum-grocers/testkit';
import { startFaultStore, type FaultStore } from './store.js';

const departure = (i: number, prefix: string) =>
  JSON.stringify({
    event_id: `${prefix}-${i}`,
    timestamp: new Date().toISOString(),
    customer_id: 1,
    product_ids: [1 + (i % 100)],
  });

describe('the broker and offline consumers', () => {
  let store: FaultStore;
  let watcher: Collector;
  let gate: mqtt.MqttClient;
  const topic = () => eventTopic(store.root, 'customer-departure');
  const billed = (prefix: string) =>
    new Set(
      watcher
        .on(eventTopic(store.root, 'payment-due'))
        .map((m) => m.json<{ departure_event_id: string }>().departure_event_id)
        .filter((id) => id.startsWith(`${prefix}-`)),
    ).size;

  beforeEach(async () => {
    store = await startFaultStore();
    await store.start('fastlane-finale');
    watcher = await collect(store.broker.url, eventTopic(store.root, 'payment-due'), {
      ...store.watcher(),
      clean: false,
      clientId: 'fault-broker-watcher',
    });
    gate = await mqtt.connectAsync(store.broker.url, { ...store.account('gateexit-guardian'), reconnectPeriod: 200 });
  }, 60_000);
  afterEach(async () => {
    await gate?.endAsync(true);
    await watcher?.close();
    await store?.dispose();
  });

  const publish = async (count: number, prefix: string) => {
    for (let i = 0; i < count; i++) await gate.publishAsync(topic(), departure(i, prefix), { qos: 1 });
  };

  it('delivers all 5,000 departures queued while fastlane-finale was down (no silent drop at a queue limit)', async () => {
    expect(await store.proc('fastlane-finale').stop('SIGTERM')).toBe(0);
    await publish(5_000, 'queued');
    await store.start('fastlane-finale');
    await waitUntil(() => billed('queued') === 5_000, '5,000 payments', 120_000);
    process.stdout.write(`faults: 5000 departures queued for an offline consumer: ${billed('queued')} billed\n`);
  }, 180_000);

  it('loses nothing when the broker is stopped and restarted mid-stream with the consumers offline', async () => {
    expect(await store.proc('fastlane-finale').stop('SIGTERM')).toBe(0);
    await publish(1_500, 'restart');
    await store.broker.stop('SIGTERM');
    await store.broker.restart();
    await waitUntil(() => gate.connected && watcher.client.connected, 'clients back on the broker', 20_000);
    for (let i = 1_500; i < 3_000; i++) await gate.publishAsync(topic(), departure(i, 'restart'), { qos: 1 });
    await store.start('fastlane-finale');
    await waitUntil(() => billed('restart') === 3_000, '3,000 payments', 120_000);
    process.stdout.write(
      `faults: broker SIGTERM + restart mid-stream, consumer offline: ${3_000 - billed('restart')} of 3000 lost\n`,
    );
  }, 180_000);

  it("turns a kill -9'd gate offline through its will, and a stopped one offline by its own word", async () => {
    const status = statusTopic(store.root, 'gateway-guardian');
    const statuses = await collect(store.broker.url, status, store.watcher());
    try {
      await store.start('gateway-guardian');
      await statuses.waitFor(status, 1);
      const killedAt = Date.now();
      await store.kill('gateway-guardian');
      const [, will] = await statuses.waitFor(status, 2);
      expect(will!.json()).toMatchObject({ status: 'offline' });
      const willMs = Date.now() - killedAt;
      // The will was made at connect time; the graceful goodbye is stamped when it is said.
      await store.start('gateway-guardian');
      await statuses.waitFor(status, 3);
      const stoppedAt = Date.now();
      expect(await store.proc('gateway-guardian').stop('SIGTERM')).toBe(0);
      const [, , , goodbye] = await statuses.waitFor(status, 4);
      expect(goodbye!.json()).toMatchObject({ status: 'offline' });
      expect(Date.parse(goodbye!.json<{ timestamp: string }>().timestamp)).toBeGreaterThanOrEqual(stoppedAt - 5);
      process.stdout.write(`faults: kill -9 of a gate: retained status offline after ${willMs} ms (keepalive 30 s)\n`);
    } finally {
      await statuses.close();
    }
  }, 60_000);
});
