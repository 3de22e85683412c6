import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { idFromBytes } from '@spectrum-grocers/contract';
import {
  collect,
  quietLogger,
  startAedes,
  tempDatabase,
  waitUntil,
  type Collector,
  type EmbeddedTestBroker,
} from '@spectrum-grocers/testkit';
import { connectBus, type Bus } from './bus.js';
import { walDurability } from './commit.js';
import { loadConfig } from './config.js';
import { createForwarder, type Forwarder } from './forward.js';
import { createOutbox, type Outbox } from './outbox.js';

let seq = 0;

/** Two brokers and a forwarder from the first (`source`) to the second (`target`). */
describe('a forwarder between two brokers', () => {
  let source: EmbeddedTestBroker;
  let target: EmbeddedTestBroker;
  let db: ReturnType<typeof tempDatabase>;
  let from: Bus;
  let to: Bus;
  let outbox: Outbox;
  let forwarder: Forwarder;
  let publisher: Collector;
  let received: Collector;
  let prefix: string;

  const busTo = (url: string, clientId: string, env: Record<string, string> = {}) =>
    connectBus(
      loadConfig('forward-test', {
        env: {
          MQTT_URL: url,
          MQTT_CLIENT_ID: clientId,
          MQTT_RECONNECT_MIN_MS: '50',
          MQTT_RECONNECT_MAX_MS: '200',
          ...env,
        },
        dotenv: false,
      }),
      quietLogger(),
      { announce: false },
    );

  /** A forwarder of `prefix/#` over a fresh connection pair, on the same database. */
  async function startForwarder(env: Record<string, string> = {}): Promise<void> {
    from = busTo(source.url, `fwd-from-${prefix}`, env);
    to = busTo(target.url, `fwd-to-${prefix}`);
    const durability = walDurability(db.db);
    outbox = createOutbox(db.db, to, quietLogger(), [], durability);
    forwarder = createForwarder({
      from,
      db: db.db,
      outbox,
      durability,
      log: quietLogger(),
      retain: (topic) => topic.startsWith(`${prefix}/status/`),
    });
    await forwarder.start([`${prefix}/#`]);
  }

  async function stopForwarder(): Promise<void> {
    await from.pause();
    await outbox.drain(1000);
    outbox.stop();
    await Promise.all([from.close(1000), to.close(1000)]);
  }

  beforeEach(async () => {
    [source, target] = await Promise.all([startAedes(), startAedes()]);
    prefix = `forward-${process.pid}-${++seq}`;
    db = tempDatabase('forward-test', '');
    // A persistent session: what arrives while the target is paused is kept for it.
    received = await collect(target.url, `${prefix}/#`, { clean: false, clientId: `received-${prefix}` });
    publisher = await collect(source.url, `${prefix}-publisher`);
    await startForwarder();
  });
  afterEach(async () => {
    await stopForwarder();
    await Promise.all([received.close(), publisher.close()]);
    db.close();
    await Promise.all([source.close(), target.close()]);
  });

  it('forwards each message once, on the same topic, byte for byte', async () => {
    // Spacing and a 2-decimal amount as a Python publisher writes them: a re-serialised copy would differ.
    const text = '{"event_id": "p-1", "amount": 12.50, "note": "caf\u00e9"}';
    await publisher.publish(`${prefix}/payment-due`, text);
    await publisher.publish(`${prefix}/payment-due`, text);
    const [copy] = await received.waitFor(`${prefix}/payment-due`);
    expect(copy!.payload.toString('utf8')).toBe(text);
    await waitUntil(() => forwarder.stats.duplicates === 1, 'the second copy seen');
    expect(received.on(`${prefix}/payment-due`)).toHaveLength(1);
    expect(forwarder.stats).toMatchObject({ received: 2, forwarded: 1, duplicates: 1, refused: 0 });
  });

  it('tells messages apart by event_id, or by their bytes when they have none, within each topic', async () => {
    await publisher.publish(`${prefix}/a`, { event_id: 'same', n: 1 });
    await publisher.publish(`${prefix}/a`, { event_id: 'same', n: 2 }); // the same event, sent again
    await publisher.publish(`${prefix}/b`, { event_id: 'same', n: 3 }); // another kind: its own id space
    await publisher.publish(`${prefix}/a`, { n: 4 });
    await publisher.publish(`${prefix}/a`, { n: 4 });
    await publisher.publish(`${prefix}/a`, '"a bare JSON string"');
    await waitUntil(() => forwarder.stats.received === 6, 'all six taken');
    await waitUntil(() => received.messages.length === 4, 'four forwarded');
    expect(received.messages.map((m) => m.payload.toString())).toEqual([
      '{"event_id":"same","n":1}',
      '{"event_id":"same","n":3}',
      '{"n":4}',
      '"a bare JSON string"',
    ]);
    const rows = db.db.prepare('SELECT event_id, topic FROM processed_events').all();
    expect(rows).toContainEqual({ event_id: idFromBytes(Buffer.from('{"n":4}')), topic: `${prefix}/a` });
  });

  it('forwards what is not JSON, or too large, nowhere: acknowledged and counted', async () => {
    await stopForwarder();
    await startForwarder({ MAX_PAYLOAD_BYTES: '64' });
    await publisher.publish(`${prefix}/payment-due`, Buffer.from([0xff, 0xfe]));
    await publisher.publish(`${prefix}/payment-due`, 'not json');
    await publisher.publish(`${prefix}/payment-due`, JSON.stringify({ pad: 'x'.repeat(100) }));
    await publisher.publish(`${prefix}/payment-due`, { event_id: 'after' });
    await received.waitFor(`${prefix}/payment-due`);
    expect(received.messages.map((m) => m.json())).toEqual([{ event_id: 'after' }]);
    expect(forwarder.stats).toMatchObject({ received: 4, forwarded: 1, refused: 3 });
    // Acknowledged: nothing of it is delivered again to the next session.
    await stopForwarder();
    await startForwarder();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(forwarder.stats.received).toBe(0);
  });

  it('retains what the topic says is retained, whatever flag the message came with', async () => {
    // Published while the forwarder is subscribed, a retained message arrives with retain 0 [MQTT-3.3.1-9].
    await publisher.publish(`${prefix}/status/a`, { status: 'online' }, { retain: true });
    await publisher.publish(`${prefix}/payment-due`, { event_id: 'p' }, { retain: true });
    await waitUntil(() => received.messages.length === 2, 'both forwarded');
    const late = await collect(target.url, `${prefix}/#`);
    try {
      const [status] = await late.waitFor(`${prefix}/status/a`);
      expect(status!.retain).toBe(true);
      expect(late.on(`${prefix}/payment-due`)).toEqual([]);
    } finally {
      await late.close();
    }
  });

  it('forwards a retained state again when it comes back after another (a last will is the same bytes every time)', async () => {
    const status = `${prefix}/status/a`;
    const will = '{"status":"offline"}';
    for (const payload of [will, '{"status":"online"}', will, will]) {
      await publisher.publish(status, payload, { retain: true });
    }
    await waitUntil(() => forwarder.stats.received === 4, 'all four taken');
    await waitUntil(() => received.on(status).length === 3, 'three forwarded');
    expect(received.on(status).map((m) => m.json().status)).toEqual(['offline', 'online', 'offline']);
    expect(forwarder.stats.duplicates).toBe(1);
    // One row per retained topic: the state it holds now.
    expect(db.db.prepare('SELECT count(*) AS n FROM processed_events WHERE topic = ?').get(status)).toEqual({ n: 1 });
  });

  it('keeps what it took while the target was down, across a restart, and forwards it when the target is back', async () => {
    await target.pause();
    for (let i = 0; i < 50; i++) await publisher.publish(`${prefix}/payment-due`, { event_id: `down-${i}` });
    await waitUntil(() => forwarder.stats.forwarded === 50, 'all 50 committed');
    expect(outbox.pendingCount()).toBe(50);
    await stopForwarder();
    await startForwarder();
    await target.resume();
    await waitUntil(() => received.on(`${prefix}/payment-due`).length >= 50, 'all 50 at the target', 15_000);
    expect(new Set(received.on(`${prefix}/payment-due`).map((m) => m.json().event_id)).size).toBe(50);
  });
});
