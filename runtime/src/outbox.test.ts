import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  collect,
  quietLogger,
  skipWithoutMosquitto,
  startMosquitto,
  tempDatabase,
  waitUntil,
  type Collector,
  type Mosquitto,
} from '@spectrum-grocers/testkit';
import { connectBus, type Bus } from './bus.js';
import { loadConfig } from './config.js';
import { createOutbox, type Outbox } from './outbox.js';
import { OUTBOX_BY_EVENT_ID } from './store.js';

const RESEND_WINDOW_MS = 1000;

describe.skipIf(skipWithoutMosquitto)('outbox across a frozen or crashed broker', () => {
  let broker: Mosquitto;
  let db: ReturnType<typeof tempDatabase>;
  let bus: Bus;
  let outbox: Outbox;
  let watcher: Collector;
  let n = 0;
  const add = () => {
    outbox.enqueue([{ topic: 'outbox/test', eventId: `e${n}`, payload: { n: n++ } }]);
    outbox.kick();
  };

  beforeEach(async () => {
    broker = await startMosquitto();
    db = tempDatabase('gateexit-guardian', '');
    const config = loadConfig('gateexit-guardian', {
      env: {
        MQTT_URL: broker.url,
        MQTT_KEEPALIVE_S: '2',
        MQTT_RECONNECT_MIN_MS: '100',
        MQTT_RECONNECT_MAX_MS: '1000',
        OUTBOX_RESEND_WINDOW_MS: String(RESEND_WINDOW_MS),
      },
      dotenv: false,
    });
    bus = connectBus(config, quietLogger());
    outbox = createOutbox(db.db, bus, quietLogger());
    watcher = await collect(broker.url, 'outbox/test', {
      clean: false,
      clientId: 'outbox-freeze-watcher',
      keepalive: 60,
    });
    n = 0;
    await bus.ready;
  });
  afterEach(async () => {
    outbox.stop();
    broker.signal('SIGCONT');
    await bus.close(1000);
    await watcher.close();
    db.close();
    await broker.dispose();
  });

  // Regression: MQTT.js's reconnect() starts with empty message stores, so publishes still
  // awaiting PUBACK when the connection died were never resent and the outbox never drained.
  it('publishes everything, including what was in flight when the broker froze, once it is back', async () => {
    for (let i = 0; i < 5; i++) add();
    await waitUntil(() => outbox.pendingCount() === 0, 'the first five');
    broker.signal('SIGSTOP');
    for (let i = 0; i < 20; i++) {
      add(); // the first ones go to MQTT.js before it notices the freeze, the rest wait
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(outbox.pendingCount()).toBe(20);
    broker.signal('SIGCONT');
    await waitUntil(() => outbox.pendingCount() === 0, 'the outbox to drain after the thaw', 20_000);
    const got = await watcher.waitFor('outbox/test', 25, 20_000);
    expect(new Set(got.map((m) => m.json<{ n: number }>().n)).size).toBe(25);
  }, 60_000);

  it('after a broker kill -9, publishes again what the broker acknowledged within the window before, and nothing older', async () => {
    for (let i = 0; i < 5; i++) add(); // e0–e4: long saved by the broker
    await waitUntil(() => outbox.pendingCount() === 0, 'the old five');
    await new Promise((r) => setTimeout(r, RESEND_WINDOW_MS + 1500));
    for (let i = 0; i < 5; i++) add(); // e5–e9: acknowledged just before the crash
    await waitUntil(() => outbox.pendingCount() === 0, 'the recent five');
    await watcher.waitFor('outbox/test', 10);
    const before = watcher.messages.length;
    await broker.stop('SIGKILL');
    await broker.restart();
    await waitUntil(() => bus.isConnected() && outbox.pendingCount() === 0, 'the outbox to drain again', 20_000);
    await waitUntil(() => watcher.messages.length >= before + 5, 'the copies', 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const again = new Set(watcher.messages.slice(before).map((m) => m.json<{ n: number }>().n));
    expect([...again].sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9]);
  }, 60_000);
});

describe('outbox events', () => {
  it('publishes only the events its service declared: another is refused, and nothing is recorded', () => {
    const db = tempDatabase('fastlane-finale', '');
    const config = loadConfig('fastlane-finale', {
      env: { MQTT_URL: 'mqtt://127.0.0.1:1', STORE: 'outbox-events' },
      dotenv: false,
    });
    const bus = connectBus(config, quietLogger());
    try {
      const outbox = createOutbox(db.db, bus, quietLogger(), ['payment-due']);
      const payment = { event_id: 'p-1', timestamp: '2026-11-22T10:00:00Z', customer_id: 1, amount: 1 };
      const alert = { event_id: 'r-1', timestamp: '2026-11-22T10:00:00Z', item_id: 1, quantity: 0, threshold: 1 };
      expect(() => outbox.emit([{ event: 'restock-alert', payload: alert }])).toThrow(
        /fastlane-finale does not publish restock-alert/,
      );
      expect(outbox.pendingCount()).toBe(0);
      expect(outbox.emit([{ event: 'payment-due', payload: payment }])).toBe(1);
      expect(outbox.get('p-1')?.topic).toBe('spectrum-grocers/outbox-events/payment-due');
      outbox.stop();
    } finally {
      void bus.close(100);
      db.close();
    }
  });

  it('stores one row per event_id only where the schema asks (OUTBOX_BY_EVENT_ID): a consumer writes no index for it', () => {
    const config = loadConfig('fastlane-finale', {
      env: { MQTT_URL: 'mqtt://127.0.0.1:1', STORE: 'outbox-keys' },
      dotenv: false,
    });
    const bus = connectBus(config, quietLogger());
    const consumer = tempDatabase('fastlane-finale', '');
    const gate = tempDatabase('gateexit-guardian', OUTBOX_BY_EVENT_ID);
    try {
      const row = { topic: 'spectrum-grocers/outbox-keys/payment-due', eventId: 'p-1', payload: { n: 1 } };
      const keyed = createOutbox(gate.db, bus, quietLogger());
      expect(keyed.keyedByEventId).toBe(true);
      expect(keyed.enqueue([row])).toBe(1);
      expect(keyed.enqueue([{ ...row, payload: { n: 2 } }])).toBe(0);
      expect(keyed.pendingCount()).toBe(1);
      expect(keyed.get('p-1')?.payload).toBe('{"n":1}');
      keyed.stop();

      const plain = createOutbox(consumer.db, bus, quietLogger());
      expect(plain.keyedByEventId).toBe(false);
      const indexed = consumer.db
        .prepare<[], { name: string }>("SELECT name FROM pragma_index_list('outbox')")
        .all()
        .map((i) => i.name);
      expect(indexed).toEqual(['outbox_pending']);
      plain.stop();
    } finally {
      void bus.close(100);
      consumer.close();
      gate.close();
    }
  });
});
