import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterTopic, eventTopic, storeFilter } from '@spectrum-grocers/contract';
import {
  collect,
  quietLogger,
  tempDatabase,
  TEST_BROKERS,
  waitUntil,
  type Collector,
  type TestBroker,
} from '@spectrum-grocers/testkit';
import { connectBus, type Bus } from './bus.js';
import { loadConfig } from './config.js';
import { createConsumer, type Consumer } from './consumer.js';
import { createOutbox, type Outbox } from './outbox.js';

let seq = 0;

describe.each(TEST_BROKERS)('consumer on $name', ({ skip, start }) => {
  let broker: TestBroker;
  let root: { chain: string; store: string };
  let db: ReturnType<typeof tempDatabase>;
  let bus: Bus;
  let outbox: Outbox;
  let consumer: Consumer;
  let watcher: Collector;
  const handled: number[] = [];

  beforeEach(async (ctx) => {
    if (skip) ctx.skip();
    broker = await start();
    root = { chain: 'spectrum-grocers', store: `consumer-${process.pid}-${++seq}` };
    db = tempDatabase('hello-helper', '');
    const config = loadConfig('hello-helper', {
      env: { MQTT_URL: broker.url, STORE: root.store, MQTT_RECONNECT_MIN_MS: '100', MQTT_RECONNECT_MAX_MS: '500' },
      dotenv: false,
    });
    const log = quietLogger();
    bus = connectBus(config, log);
    outbox = createOutbox(db.db, bus, log);
    handled.length = 0;
    consumer = createConsumer({
      bus,
      db: db.db,
      outbox,
      log,
      routes: {
        'customer-arrival': (e) => {
          handled.push(e.customer_id);
          const welcome = {
            event_id: `w-${e.event_id}`,
            timestamp: e.timestamp,
            customer_id: e.customer_id,
            name: null,
            message: 'hi',
          };
          return [{ event: 'display-welcome' as const, payload: welcome }];
        },
      },
    });
    watcher = await collect(broker.url, storeFilter(root));
    await consumer.start();
  });
  afterEach(async () => {
    outbox?.stop();
    await bus?.close();
    await watcher?.close();
    db?.close();
    await broker?.close();
  });

  const arrival = (customer_id: number, extra: object = {}) => ({
    timestamp: '2026-11-22T10:00:00Z',
    customer_id,
    ...extra,
  });

  it('handles an event once and publishes its outcome through the outbox', async () => {
    await watcher.publish(eventTopic(root, 'customer-arrival'), arrival(3, { event_id: 'a-1' }));
    const [welcome] = await watcher.waitFor(eventTopic(root, 'display-welcome'));
    expect(welcome!.json()).toMatchObject({ event_id: 'w-a-1', customer_id: 3 });
    await waitUntil(() => outbox.pendingCount() === 0, 'the outbox to be marked sent');
  });

  it('handles an event delivered twice only once', async () => {
    const topic = eventTopic(root, 'customer-arrival');
    await watcher.publish(topic, arrival(3, { event_id: 'a-dup' }));
    await watcher.publish(topic, arrival(3, { event_id: 'a-dup' }));
    await watcher.publish(topic, arrival(4, { event_id: 'a-next' }));
    await watcher.waitFor(eventTopic(root, 'display-welcome'), 2);
    await waitUntil(() => consumer.stats.received === 3, 'all three deliveries');
    expect(handled).toEqual([3, 4]);
    expect(consumer.stats).toMatchObject({ handled: 2, duplicates: 1, deadLettered: 0 });
    expect(watcher.on(eventTopic(root, 'display-welcome'))).toHaveLength(2);
  });

  it('sends malformed input to dead-letter with the reason, topic and raw payload, and keeps going', async () => {
    const topic = eventTopic(root, 'customer-arrival');
    const dl = deadLetterTopic(root, 'hello-helper');
    await watcher.publish(topic, '{"customer_id": ');
    await watcher.publish(topic, arrival(-5));
    await watcher.publish(topic, Buffer.from([0xc3, 0x28]));
    await watcher.publish(topic, arrival(7));
    const letters = (await watcher.waitFor(dl, 3)).map((m) => m.json());
    expect(letters[0]).toMatchObject({ service: 'hello-helper', topic, payload: '{"customer_id": ', encoding: 'utf8' });
    expect(letters[0]!.reason).toMatch(/not valid JSON/);
    expect(letters[1]!.reason).toMatch(/customer_id/);
    expect(letters[2]).toMatchObject({ encoding: 'base64', payload: Buffer.from([0xc3, 0x28]).toString('base64') });
    expect(letters[2]!.reason).toMatch(/UTF-8/);
    await watcher.waitFor(eventTopic(root, 'display-welcome'));
    expect(handled).toEqual([7]);
    expect(consumer.stats.deadLettered).toBe(3);
  });

  it('publishes what an earlier run left in its outbox when it starts', async () => {
    // A previous process committed these and died before the broker acknowledged them.
    const left = tempDatabase('fastlane-finale', '');
    const config = loadConfig('fastlane-finale', {
      env: { MQTT_URL: broker.url, STORE: root.store },
      dotenv: false,
    });
    const log = quietLogger();
    const offline = connectBus({ ...config, mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:1' } }, log);
    const before = createOutbox(left.db, offline, log);
    const topic = eventTopic(root, 'payment-due');
    before.enqueue([1, 2, 3].map((n) => ({ topic, eventId: `p-${n}`, payload: { n } })));
    expect(before.pendingCount()).toBe(3);
    before.stop();
    await offline.close();

    const restarted = connectBus(config, log);
    const after = createOutbox(left.db, restarted, log);
    try {
      const got = await watcher.waitFor(topic, 3);
      expect(got.map((m) => m.json<{ n: number }>().n)).toEqual([1, 2, 3]);
      expect(await after.drain(5000)).toBe(true);
      expect(after.pendingCount()).toBe(0);
    } finally {
      after.stop();
      await restarted.close();
      left.close();
    }
  });
});
