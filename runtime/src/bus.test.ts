import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statusTopic } from '@spectrum-grocers/contract';
import {
  collect,
  quietLogger,
  startAedes,
  TEST_BROKERS,
  waitUntil,
  type Collector,
  type TestBroker,
} from '@spectrum-grocers/testkit';
import { connectBus, eachMessage, type Bus } from './bus.js';
import { loadConfig } from './config.js';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/consumer.mjs', import.meta.url));
let seq = 0;

/** A handler that notes each payload and finishes at once. */
const record = (into: string[]) =>
  eachMessage((_, payload) => {
    into.push(payload.toString());
    return Promise.resolve();
  });

describe.each(TEST_BROKERS)('MQTT runtime on $name', ({ skip, start }) => {
  let broker: TestBroker;
  let store: string;
  let topic: string;
  let clientId: string;
  const open: Array<{ close(): Promise<void> }> = [];

  const env = (extra: Record<string, string> = {}) => ({
    MQTT_URL: broker.url,
    MQTT_CLIENT_ID: clientId,
    STORE: store,
    MQTT_RECONNECT_MIN_MS: '100',
    MQTT_RECONNECT_MAX_MS: '500',
    TOPIC: topic,
    ...extra,
  });
  const bus = (): Bus => {
    const config = loadConfig('fixture-consumer', { env: env(), dotenv: false });
    const b = connectBus(config, quietLogger());
    open.push(b);
    return b;
  };
  const observer = async (filter: string): Promise<Collector> => {
    const c = await collect(broker.url, filter);
    open.push(c);
    return c;
  };
  function runFixture(mode: 'crash' | 'idle') {
    const child = spawn(process.execPath, [FIXTURE, mode], {
      env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_, signal) => resolve(signal)));
    open.push({
      close: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        return Promise.resolve();
      },
    });
    return { child, exited, output: () => out, ready: () => waitUntil(() => out.includes('ready'), 'fixture ready') };
  }

  beforeEach(async (ctx) => {
    if (skip) ctx.skip();
    broker = await start();
    store = `runtime-${process.pid}-${++seq}`;
    topic = `spectrum-grocers/${store}/customer-arrival`;
    clientId = `${store}-consumer`;
  });
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined);
    await broker?.close();
  });

  it('acknowledges only after the handler finished: a handler that crashes the process gets the message again', async () => {
    const fixture = runFixture('crash');
    await fixture.ready();
    const publisher = await observer('unused/#');
    await publisher.publish(topic, 'order-1');
    expect(await fixture.exited).toBe('SIGKILL');
    expect(fixture.output()).toContain('handling order-1');

    // Same client id, persistent session: the unacknowledged message comes back.
    const seen: string[] = [];
    const again = bus();
    await again.consume([topic], record(seen));
    await waitUntil(() => seen.length > 0, 'the redelivery');
    expect(seen).toEqual(['order-1']);

    // Handled this time, so acknowledged: a new session of the same client gets nothing more.
    await again.close();
    const third: string[] = [];
    const last = bus();
    await last.consume([topic], record(third));
    await publisher.publish(topic, 'order-2');
    await waitUntil(() => third.length > 0, 'order-2');
    expect(third).toEqual(['order-2']);
  });

  it('holds up to MAX_IN_FLIGHT messages, hands them over in batches in arrival order, and acknowledges each batch after its handler', async () => {
    const b = bus();
    const batches: string[][] = [];
    let release: () => void = () => {};
    let held = new Promise<void>((resolve) => (release = resolve));
    await b.consume(
      [topic],
      async (batch) => {
        batches.push(batch.map((d) => d.payload.toString()));
        await held;
      },
      { maxInFlight: 8 },
    );
    const publisher = await observer('unused/#');
    const sent = Array.from({ length: 30 }, (_, i) => `m-${i}`);
    for (const m of sent) await publisher.publish(topic, m);
    // The first batch is in the handler; MQTT.js reads on until 8 are held, then no more.
    await waitUntil(() => b.inFlight() === 8, 'eight messages in flight');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(b.inFlight()).toBe(8);
    expect(batches).toHaveLength(1);

    held = Promise.resolve();
    release();
    await waitUntil(() => batches.flat().length === sent.length, 'every message handled');
    expect(batches.flat()).toEqual(sent);
    expect(Math.max(...batches.map((x) => x.length))).toBeGreaterThan(1);
    expect(batches.every((x) => x.length <= 8)).toBe(true);
    await waitUntil(() => b.inFlight() === 0, 'every batch acknowledged');

    // All acknowledged: the same session, opened again, holds nothing more for us.
    await b.close();
    const again: string[] = [];
    const next = bus();
    await next.consume([topic], record(again));
    await publisher.publish(topic, 'after');
    await waitUntil(() => again.length > 0, 'the next message');
    expect(again).toEqual(['after']);
  });

  it('keeps what our session delivers before consume() for its handler, instead of acknowledging it unread', async () => {
    const first = bus();
    await first.consume([topic], record([]));
    await first.close();
    const publisher = await observer('unused/#');
    for (let i = 0; i < 5; i++) await publisher.publish(topic, `queued-${i}`);

    // Connected, session delivered, no handler yet (a service still starting its HTTP server).
    const again = bus();
    await again.ready;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seen: string[] = [];
    await again.consume([topic], record(seen), { maxInFlight: 2 });
    await waitUntil(() => seen.length === 5, 'the queued messages');
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `queued-${i}`));
  });

  it('after a handler fails with its window full, gets every message again and keeps its window count', async () => {
    const b = bus();
    const seen = new Set<string>();
    let failed = false;
    await b.consume(
      [topic],
      async (batch) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        // One failure mid-stream: the connection is dropped with parsed packets still queued.
        if (!failed && seen.size >= 20) {
          failed = true;
          throw new Error('one failure');
        }
        for (const d of batch) seen.add(d.payload.toString());
      },
      { maxInFlight: 1 },
    );
    const publisher = await observer('unused/#');
    await Promise.all(Array.from({ length: 200 }, (_, i) => publisher.publish(topic, `w-${i}`)));
    await waitUntil(() => seen.size === 200 && b.inFlight() === 0, 'every message handled, none held', 15_000);
    expect(failed).toBe(true);
  });

  it('publishes a retained online status, and the broker publishes the offline last will when the process dies', async () => {
    const fixture = runFixture('idle');
    await fixture.ready();
    const status = statusTopic({ chain: 'spectrum-grocers', store }, 'fixture-consumer');
    const watcher = await observer(status);
    const [online] = await watcher.waitFor(status, 1);
    expect(online!.json()).toMatchObject({ service: 'fixture-consumer', status: 'online' });
    fixture.child.kill('SIGKILL');
    const [, offline] = await watcher.waitFor(status, 2);
    expect(offline!.json()).toMatchObject({ service: 'fixture-consumer', status: 'offline' });
    // Retained: a late observer sees offline too.
    const late = await observer(status);
    const [retained] = await late.waitFor(status, 1);
    expect(retained!.retain && retained!.json()).toMatchObject({ status: 'offline' });
  });

  it('publishes offline itself on a graceful close', async () => {
    const b = bus();
    await b.ready;
    const status = statusTopic({ chain: 'spectrum-grocers', store }, 'fixture-consumer');
    const watcher = await observer(status);
    await watcher.waitFor(status, 1);
    await b.close();
    const [, offline] = await watcher.waitFor(status, 2);
    expect(offline!.json()).toMatchObject({ status: 'offline' });
  });

  it('reconnects after the broker restarts, resubscribes, and loses nothing sent meanwhile', async () => {
    const seen: string[] = [];
    const b = bus();
    let connects = 0;
    b.onConnection((up) => up && connects++);
    await b.consume([topic], record(seen));
    const publisher = await observer('unused/#');
    await publisher.publish(topic, 'before');
    await waitUntil(() => seen.includes('before'), 'the first message');

    await broker.bounce();
    // Published as soon as the broker is back, before our consumer has reconnected.
    const late = await observer('unused/#');
    await late.publish(topic, 'during');
    await waitUntil(() => connects >= 1 && b.isConnected(), 'the reconnect');
    await late.publish(topic, 'after');
    await waitUntil(() => seen.includes('during') && seen.includes('after'), 'messages after the restart');
    expect(seen).toEqual(['before', 'during', 'after']);
  });

  // Regression: a consumer reconnecting to a broker without its session (here a clean-session
  // client took its id for 0.3 s and wiped it) got no messages while /healthz said 200.
  it('subscribes again after a CONNACK without its session, and counts itself unsubscribed until then', async () => {
    const seen: string[] = [];
    const b = bus();
    await b.consume([topic], record(seen));
    expect(b.isSubscribed()).toBe(true);
    let connack: boolean | undefined;
    b.onConnection((up, sessionPresent) => up && (connack = sessionPresent));
    const thief = await mqtt.connectAsync(broker.url, { clientId, clean: true, reconnectPeriod: 0 });
    await waitUntil(() => !b.isConnected(), 'the take-over');
    expect(b.isSubscribed()).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    await thief.endAsync();
    await waitUntil(() => b.isSubscribed(), 'the subscriptions made again', 10_000);
    expect(connack).toBe(false);
    const publisher = await observer('unused/#');
    await publisher.publish(topic, 'after the take-over');
    await waitUntil(() => seen.includes('after the take-over'), 'a message after the take-over', 5_000);
  });
});

/** What a test gets of `onAedes`: a consumer's bus, its topic, a publisher, and what the broker saw it acknowledge. */
interface AckedBus {
  bus: Bus;
  topic: string;
  publisher: Collector;
  /** Payloads the consumer acknowledged, in the order the broker got the PUBACKs. */
  acked: string[];
  /** Also call `listener` with each acknowledged payload as its PUBACK arrives. */
  onAck: (listener: (payload: string) => void) => void;
}

/** A consumer's bus on an in-process aedes, whose `ack` events tell what the consumer acknowledged; all closed after `test`. */
async function onAedes(name: string, test: (t: AckedBus) => Promise<void>): Promise<void> {
  const broker = await startAedes();
  const store = `${name}-${process.pid}`;
  const config = loadConfig('fixture-consumer', {
    env: { MQTT_URL: broker.url, MQTT_CLIENT_ID: `${store}-consumer`, STORE: store },
    dotenv: false,
  });
  const bus = connectBus(config, quietLogger(), { announce: false });
  const publisher = await collect(broker.url, 'unused/#');
  const acked: string[] = [];
  const listeners: Array<(payload: string) => void> = [(payload) => acked.push(payload)];
  broker.broker.on('ack', (packet, client) => {
    if (client?.id !== config.mqtt.clientId || !packet || !('payload' in packet)) return;
    for (const listener of listeners) listener(packet.payload.toString());
  });
  try {
    await test({
      bus,
      topic: `spectrum-grocers/${store}/acks`,
      publisher,
      acked,
      onAck: (l) => void listeners.push(l),
    });
  } finally {
    await publisher.close();
    await bus.close();
    await broker.close();
  }
}

describe('acknowledgements of a batch, as the broker sees them', () => {
  it('come after the batch is handled, one per message, in the order the messages came', () =>
    onAedes('acks', async ({ bus: b, topic, publisher, acked, onAck }) => {
      const delivered: string[] = [];
      const handled = new Set<string>();
      const handledWhenAcked: boolean[] = [];
      onAck((payload) => handledWhenAcked.push(handled.has(payload)));
      await b.consume(
        [topic],
        async (batch) => {
          for (const d of batch) delivered.push(d.payload.toString());
          await new Promise((resolve) => setTimeout(resolve, 5));
          for (const d of batch) handled.add(d.payload.toString());
        },
        { maxInFlight: 16 },
      );
      const sent = Array.from({ length: 100 }, (_, i) => `a-${i}`);
      await Promise.all(sent.map((m) => publisher.publish(topic, m)));
      await waitUntil(() => acked.length === sent.length, 'every acknowledgement', 10_000);
      expect(acked).toEqual(delivered);
      expect(handledWhenAcked.every(Boolean)).toBe(true);
      expect(new Set(delivered).size).toBe(sent.length);
    }));
});

describe('two batches in progress', () => {
  it('leaves a batch behind a failed one unacknowledged, so nothing is acknowledged before an earlier message', () =>
    onAedes('failed-head', async ({ bus: b, topic, publisher, acked }) => {
      let batches = 0;
      let failFirst: (err: Error) => void = () => {};
      const first = new Promise<void>((_, reject) => (failFirst = reject));
      await b.consume(
        [topic],
        async () => {
          if (++batches === 1) await first; // the head batch fails, once the second has finished
        },
        { maxInFlight: 16, batchesInProgress: 2 },
      );
      await publisher.publish(topic, 'f-0');
      await waitUntil(() => batches === 1, 'the first batch');
      for (let i = 1; i < 4; i++) await publisher.publish(topic, `f-${i}`);
      await waitUntil(() => batches === 2, 'the second batch');
      // Stopping: the failed head does not drop the connection, which stays up for the others' acks.
      const paused = b.pause();
      failFirst(new Error('stopping'));
      await paused;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(acked).toEqual([]);
    }));

  it('acknowledges a batch that finished first only after the one before it', () =>
    onAedes('overlap', async ({ bus: b, topic, publisher, acked }) => {
      const batches: string[][] = [];
      let releaseFirst: () => void = () => {};
      const first = new Promise<void>((resolve) => (releaseFirst = resolve));
      await b.consume(
        [topic],
        async (batch) => {
          batches.push(batch.map((d) => d.payload.toString()));
          if (batches.length === 1) await first; // the first batch waits; the second finishes at once
        },
        { maxInFlight: 16, batchesInProgress: 2 },
      );
      await publisher.publish(topic, 'o-0');
      await waitUntil(() => batches.length === 1, 'the first batch');
      for (let i = 1; i < 5; i++) await publisher.publish(topic, `o-${i}`);
      await waitUntil(() => batches.length === 2, 'the second batch, while the first is in progress');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(acked).toEqual([]); // the second is done, but the first is not
      releaseFirst();
      await waitUntil(() => acked.length === 5, 'every acknowledgement');
      expect(acked).toEqual(['o-0', 'o-1', 'o-2', 'o-3', 'o-4']);
      expect(batches.flat()).toEqual(acked);
    }));
});

describe('a bus given several brokers (the nodes of a cluster)', () => {
  it('moves on to the next one when the one it is connected to goes down, and back when that one goes', async () => {
    const [first, second] = await Promise.all([startAedes(), startAedes()]);
    const config = loadConfig('fixture-consumer', {
      env: {
        MQTT_URL: first.url,
        STORE: `servers-${process.pid}`,
        MQTT_RECONNECT_MIN_MS: '50',
        MQTT_RECONNECT_MAX_MS: '100',
      },
      dotenv: false,
    });
    const b = connectBus(config, quietLogger(), { servers: [first.url, second.url] });
    try {
      await b.ready;
      expect(b.broker()).toBe(first.url);
      await first.pause();
      await waitUntil(() => b.isConnected() && b.broker() === second.url, 'connected to the second');
      await first.resume();
      await second.pause();
      await waitUntil(() => b.isConnected() && b.broker() === first.url, 'connected to the first again');
    } finally {
      await b.close(500);
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('a bus whose subscriptions are refused', () => {
  it('asks again within its refusal grace (a NATS node right after a failover), and gives up after it', async () => {
    const broker = await startAedes();
    let refusals = 2;
    broker.broker.authorizeSubscribe = (_client, sub, done) => done(null, refusals-- > 0 ? null : sub);
    const connect = (refusalGraceMs: number) =>
      connectBus(
        loadConfig('fixture-consumer', {
          env: { MQTT_URL: broker.url, STORE: `refused-${process.pid}-${refusalGraceMs}` },
          dotenv: false,
        }),
        quietLogger(),
        { announce: false, refusalGraceMs },
      );
    const patient = connect(10_000);
    const strict = connect(0);
    try {
      await patient.consume(['refused/topic'], record([]));
      expect(patient.isSubscribed()).toBe(true);
      expect(refusals).toBeLessThan(0);
      refusals = 1;
      await expect(strict.consume(['refused/topic'], record([]))).rejects.toMatchObject({ code: 'NOT_AUTHORIZED' });
    } finally {
      await Promise.all([patient.close(500), strict.close(500)]);
      await broker.close();
    }
  });
});

describe('a bus closed while its broker is gone', () => {
  it('stops at once though a publish waits for a PUBACK that cannot come (it used to wait out its whole budget)', async () => {
    const broker = await startAedes();
    const config = loadConfig('fixture-consumer', {
      env: {
        MQTT_URL: broker.url,
        STORE: `gone-${process.pid}`,
        MQTT_RECONNECT_MIN_MS: '50',
        MQTT_RECONNECT_MAX_MS: '100',
      },
      dotenv: false,
    });
    const b = connectBus(config, quietLogger(), { announce: false });
    try {
      await b.ready;
      await broker.pause();
      await waitUntil(() => !b.isConnected(), 'the connection lost');
      const acked: Array<Error | undefined> = [];
      b.send('gone/topic', 'waits', { retain: false }, (err) => acked.push(err));
      const started = Date.now();
      await b.close(5000);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await broker.close();
    }
  });
});
