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

describe.skipIf(skipWithoutMosquitto)('outbox across a frozen broker', () => {
  let broker: Mosquitto;
  let db: ReturnType<typeof tempDatabase>;
  let bus: Bus;
  let outbox: Outbox;
  let watcher: Collector;

  beforeEach(async () => {
    broker = await startMosquitto();
    db = tempDatabase('gateexit-guardian', '');
    const config = loadConfig('gateexit-guardian', {
      env: { MQTT_URL: broker.url, MQTT_KEEPALIVE_S: '2', MQTT_RECONNECT_MIN_MS: '100', MQTT_RECONNECT_MAX_MS: '1000' },
      defaultHttpPort: 0,
      dotenv: false,
    });
    bus = connectBus(config, quietLogger());
    outbox = createOutbox(db.db, bus, quietLogger());
    watcher = await collect(broker.url, 'outbox/test', {
      clean: false,
      clientId: 'outbox-freeze-watcher',
      keepalive: 60,
    });
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
    let n = 0;
    const add = () => {
      outbox.enqueue([{ topic: 'outbox/test', eventId: `e${n}`, payload: { n: n++ } }]);
      outbox.kick();
    };
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
});
