import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainWideTopic, deadLetterTopic, eventTopic, statusTopic, type TopicRoot } from '@spectrum-grocers/contract';
import {
  collect,
  quietLogger,
  startAedes,
  tempDir,
  waitUntil,
  type Collector,
  type EmbeddedTestBroker,
} from '@spectrum-grocers/testkit';
import { loadUplinkConfig } from './config.js';
import { startUplink, type RunningUplink, type UplinkHealth } from './uplink.js';

let seq = 0;

describe('the uplink between a store broker and HQ (two aedes)', () => {
  let store: EmbeddedTestBroker;
  let hq: EmbeddedTestBroker;
  let data: ReturnType<typeof tempDir>;
  let root: TopicRoot;
  let uplink: RunningUplink | undefined;
  let atStore: Collector;
  let atHq: Collector;

  const start = async () => {
    const config = loadUplinkConfig({
      MQTT_URL: store.url,
      HQ_URL: hq.url,
      STORE: root.store,
      DATA_DIR: data.path,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      MQTT_RECONNECT_MIN_MS: '50',
      MQTT_RECONNECT_MAX_MS: '200',
    });
    uplink = await startUplink(config, quietLogger('uplink'));
    await waitUntil(() => uplink!.health().ok, 'both sides connected and subscribed');
  };
  const healthz = async (): Promise<{ status: number; body: UplinkHealth['detail'] & { status: string } }> => {
    const res = await fetch(`http://127.0.0.1:${uplink!.http.port}/healthz`);
    return { status: res.status, body: (await res.json()) as UplinkHealth['detail'] & { status: string } };
  };

  beforeEach(async () => {
    [store, hq] = await Promise.all([startAedes(), startAedes()]);
    data = tempDir('ff-uplink-');
    root = { chain: 'spectrum-grocers', store: `uplink-${process.pid}-${++seq}` };
    // Persistent sessions: what arrives while HQ is paused is kept for them, as for any consumer.
    atHq = await collect(hq.url, 'spectrum-grocers/#', { clean: false, clientId: `hq-watch-${root.store}` });
    atStore = await collect(store.url, 'spectrum-grocers/#', { clean: false, clientId: `store-watch-${root.store}` });
    await start();
  });
  afterEach(async () => {
    await uplink?.stop();
    uplink = undefined;
    await Promise.all([atHq.close(), atStore.close()]);
    await Promise.all([store.close(), hq.close()]);
    data.remove();
  });

  it('forwards a payment-due, a restock-alert, a retained status and a dead letter to HQ once each', async () => {
    const status = statusTopic(root, 'fastlane-finale');
    const sent = [
      [eventTopic(root, 'payment-due'), { event_id: 'pay-1', customer_id: 1, amount: 1.5 }],
      [eventTopic(root, 'restock-alert'), { event_id: 'alert-1', item_id: 3, quantity: 2 }],
      [deadLetterTopic(root, 'fastlane-finale'), { event_id: 'dl-1', reason: 'bad' }],
    ] as const;
    for (const [topic, payload] of sent) await atStore.publish(topic, payload);
    await atStore.publish(status, { service: 'fastlane-finale', status: 'online' }, { retain: true });
    for (const [topic, payload] of sent) {
      const [copy] = await atHq.waitFor(topic);
      expect(copy!.json()).toEqual(payload);
    }
    await atHq.waitFor(status);
    // Retained at HQ: a subscriber that comes later gets it.
    const late = await collect(hq.url, status);
    try {
      const [kept] = await late.waitFor(status);
      expect([kept!.retain, kept!.json().status]).toEqual([true, 'online']);
    } finally {
      await late.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const [topic] of sent) expect(atHq.on(topic), topic).toHaveLength(1);
    expect(atHq.on(status)).toHaveLength(1);
    // And nothing of the store's own traffic that does not travel goes up.
    await atStore.publish(eventTopic(root, 'customer-departure'), { event_id: 'dep-1' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(atHq.on(eventTopic(root, 'customer-departure'))).toEqual([]);
  });

  it("brings HQ's price changes down, for this store and for the whole chain", async () => {
    const own = eventTopic(root, 'price-change');
    const chainWide = chainWideTopic(root.chain, 'price-change');
    await atHq.publish(own, { event_id: 'price-own', product_id: 3, price_cents: 120 });
    await atHq.publish(chainWide, { event_id: 'price-all', product_id: 4, price_cents: 99 });
    await atHq.publish(eventTopic({ ...root, store: 'another-store' }, 'price-change'), { event_id: 'other' });
    expect((await atStore.waitFor(own))[0]!.json()).toMatchObject({ event_id: 'price-own' });
    expect((await atStore.waitFor(chainWide))[0]!.json()).toMatchObject({ event_id: 'price-all' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(atStore.on(eventTopic({ ...root, store: 'another-store' }, 'price-change'))).toEqual([]);
    // Came down, and never went back up: HQ saw each once, its own publish.
    expect(atHq.on(own)).toHaveLength(1);
    expect(atHq.on(chainWide)).toHaveLength(1);
  });

  it('forwards an event sent twice (the same event_id) once, each way', async () => {
    const up = eventTopic(root, 'payment-due');
    const down = eventTopic(root, 'price-change');
    for (let i = 0; i < 2; i++) {
      await atStore.publish(up, { event_id: 'twice-up', amount: i });
      await atHq.publish(down, { event_id: 'twice-down', price_cents: i });
    }
    await atHq.waitFor(up);
    await atStore.waitFor(down);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(atHq.on(up).map((m) => m.json())).toEqual([{ event_id: 'twice-up', amount: 0 }]);
    expect(atStore.on(down).map((m) => m.json())).toEqual([{ event_id: 'twice-down', price_cents: 0 }]);
  });

  it('says 503 while HQ is down, which side and what waits, and 200 once both are up again', async () => {
    expect((await healthz()).status).toBe(200);
    await hq.pause();
    await waitUntil(() => !uplink!.health().ok, 'HQ seen down');
    await atStore.publish(eventTopic(root, 'payment-due'), { event_id: 'while-down' });
    await waitUntil(() => uplink!.health().detail.backlog.up === 1, 'the payment waiting to go up');
    const down = await healthz();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      status: 'unavailable',
      unavailable: ['hq'],
      store: { connected: true, subscribed: true },
      hq: { connected: false },
      backlog: { up: 1, down: 0 },
    });
    await hq.resume();
    await waitUntil(async () => (await healthz()).status === 200, '200 with HQ back');
    await atHq.waitFor(eventTopic(root, 'payment-due'));
    await waitUntil(() => uplink!.health().detail.backlog.up === 0, 'nothing left waiting');
    const metrics = await (await fetch(`http://127.0.0.1:${uplink!.http.port}/metrics`)).text();
    expect(metrics).toMatch(/^ff_uplink_backlog\{direction="up",service="uplink"\} 0$/m);
    expect(metrics).toMatch(/^ff_uplink_connected\{side="hq",service="uplink"\} 1$/m);
  });

  it('stops within its budget while HQ is down, and sends what waited once restarted with HQ back', async () => {
    await hq.pause();
    await waitUntil(() => !uplink!.health().ok, 'HQ seen down');
    await atStore.publish(eventTopic(root, 'payment-due'), { event_id: 'kept' });
    await waitUntil(() => uplink!.health().detail.backlog.up >= 1, 'the payment committed');
    const stopping = Date.now();
    await uplink!.stop();
    uplink = undefined;
    expect(Date.now() - stopping).toBeLessThan(5000);
    await hq.resume();
    await start();
    const [kept] = await atHq.waitFor(eventTopic(root, 'payment-due'));
    expect(kept!.json()).toEqual({ event_id: 'kept' });
  });

  it('takes no message that is not JSON up, and keeps going', async () => {
    const topic = eventTopic(root, 'payment-due');
    await atStore.publish(topic, 'not json');
    await atStore.publish(topic, { event_id: 'after' });
    const copies = await atHq.waitFor(topic);
    expect(copies.map((m) => m.json())).toEqual([{ event_id: 'after' }]);
  });
});
