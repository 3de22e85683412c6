import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
import {
  collect,
  quietLogger,
  startAedes,
  tempDatabase,
  tempDir,
  waitUntil,
  type Collector,
  type EmbeddedTestBroker,
} from '@spectrum-grocers/testkit';
import { connectBus } from './bus.js';
import { createCommitter, immediateDurability } from './commit.js';
import { loadConfig } from './config.js';
import { createScanRoute } from './gate.js';
import type { Committer } from './commit.js';
import { createOutbox, type Outbox } from './outbox.js';
import { startService, type RunningService } from './service.js';
import { OUTBOX_BY_EVENT_ID } from './store.js';

describe('POST /scans at the exit gate', () => {
  let broker: EmbeddedTestBroker;
  let gate: RunningService;
  let outbox: Outbox;
  let commits: Committer;
  let watcher: Collector;
  let data: ReturnType<typeof tempDir>;
  let now: Date;
  const root = { chain: 'spectrum-grocers', store: `gate-${process.pid}` };
  const topic = eventTopic(root, 'customer-departure');

  beforeEach(async () => {
    broker = await startAedes();
    data = tempDir();
    now = new Date('2026-11-22T10:00:00Z');
    const config = loadConfig('gateexit-guardian', {
      env: {
        MQTT_URL: broker.url,
        STORE: root.store,
        DATA_DIR: data.path,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        MQTT_RECONNECT_MIN_MS: '100',
        MQTT_RECONNECT_MAX_MS: '200',
      },
      dotenv: false,
    });
    const log = quietLogger();
    gate = await startService(
      {
        service: 'gateexit-guardian',
        schema: OUTBOX_BY_EVENT_ID,
        publishes: ['customer-departure'],
        http: (ctx) => {
          outbox = ctx.outbox;
          commits = ctx.commits;
          const store = { outbox, commits: ctx.commits, topics: root };
          return [createScanRoute(store, 'customer-departure', log, { clock: () => now })];
        },
      },
      config,
      log,
    );
    await gate.bus.ready;
    // A persistent session: what the gate publishes while the watcher reconnects is kept for it.
    watcher = await collect(broker.url, topic, { clean: false, clientId: `${root.store}-watcher` });
  });
  afterEach(async () => {
    await gate.stop();
    await watcher.close();
    await broker.close();
    data.remove();
  });

  const post = (body: string, type = 'application/json') =>
    fetch(`http://127.0.0.1:${gate.http.port}/scans`, { method: 'POST', headers: { 'content-type': type }, body });

  it('answers concurrent scans each after its commit, sharing commits between them', async () => {
    const before = commits.stats();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => post(JSON.stringify({ customer_id: 1 + (i % 10), product_ids: [1] }))),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(100).fill(202));
    const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as { event_id: string }).event_id));
    const after = commits.stats();
    expect(after.jobs - before.jobs).toBe(100);
    expect(after.transactions - before.transactions).toBeLessThan(100);
    await waitUntil(
      () => new Set(watcher.messages.map((m) => m.json().event_id)).size === 100 || undefined,
      'all published',
    );
    expect(new Set(watcher.messages.map((m) => m.json().event_id))).toEqual(new Set(ids));
  });

  it('answers 202 with the event_id and publishes the departure', async () => {
    const res = await post(JSON.stringify({ customer_id: 2, product_ids: [1, 1, 16] }));
    expect(res.status).toBe(202);
    const { event_id } = (await res.json()) as { event_id: string };
    const [msg] = await watcher.waitFor(topic);
    expect(msg!.json()).toEqual({
      event_id,
      timestamp: '2026-11-22T10:00:00.000Z',
      customer_id: 2,
      product_ids: [1, 1, 16],
    });
  });

  it("stores a sensor's retried scan (same event_id) once, so it is published once", async () => {
    const body = JSON.stringify({ customer_id: 2, product_ids: [5], event_id: 'exit-7:1001' });
    for (let i = 0; i < 3; i++) expect(await (await post(body)).json()).toEqual({ event_id: 'exit-7:1001' });
    await post(JSON.stringify({ customer_id: 3, product_ids: [6], event_id: 'exit-7:1002' }));
    await watcher.waitFor(topic, 2);
    expect(watcher.on(topic).map((m) => m.json().event_id)).toEqual(['exit-7:1001', 'exit-7:1002']);
  });

  it('answers 409 naming the stored event_id, not 202, when a conflicting scan reuses an event_id, and keeps the first', async () => {
    const first = await post(JSON.stringify({ customer_id: 2, product_ids: [5], event_id: 'exit-7:2001' }));
    expect(first.status).toBe(202);
    const conflicting = await post(JSON.stringify({ customer_id: 3, product_ids: [5, 6], event_id: 'exit-7:2001' }));
    expect(conflicting.status).toBe(409);
    const answer = (await conflicting.json()) as { error: string; event_id: string };
    expect(answer.event_id).toBe('exit-7:2001');
    expect(answer.error).toMatch(/exit-7:2001.*different/);
    await post(JSON.stringify({ customer_id: 4, product_ids: [7], event_id: 'exit-7:2002' }));
    await watcher.waitFor(topic, 2);
    expect(watcher.on(topic).map((m) => m.json())).toMatchObject([
      { event_id: 'exit-7:2001', customer_id: 2, product_ids: [5] },
      { event_id: 'exit-7:2002' },
    ]);
  });

  it('answers 202 to a retry of the same scan without a timestamp after the clock moved, its fields in another order', async () => {
    const sent = await post(JSON.stringify({ event_id: 'exit-7:3001', customer_id: 2, product_ids: [5, 1] }));
    expect(sent.status).toBe(202);
    now = new Date('2026-11-22T10:00:07Z');
    const retried = await post(JSON.stringify({ product_ids: [5, 1], customer_id: 2, event_id: 'exit-7:3001' }));
    expect(retried.status).toBe(202);
    expect(await retried.json()).toEqual({ event_id: 'exit-7:3001' });
  });

  it('answers 409 to a retry whose own timestamp differs from the stored one, 202 to one that matches it', async () => {
    const scan = { event_id: 'exit-7:4001', customer_id: 2, product_ids: [5], timestamp: '2026-11-22T09:59:58Z' };
    expect((await post(JSON.stringify(scan))).status).toBe(202);
    expect((await post(JSON.stringify({ ...scan, timestamp: '2026-11-22T09:59:59Z' }))).status).toBe(409);
    expect((await post(JSON.stringify(scan))).status).toBe(202);
  });

  it.each([
    ['a missing product_ids', { customer_id: 2 }, /product_ids/],
    ['a string customer_id', { customer_id: 'two', product_ids: [] }, /customer_id/],
    ['a fractional product id', { customer_id: 2, product_ids: [1.5] }, /product_ids\.0/],
  ])('answers 400 naming the field for %s', async (_, body, field) => {
    const res = await post(JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(field);
  });

  it('answers 400 for invalid JSON, 415 for another content type, 413 for a huge body', async () => {
    expect((await post('{"customer_id":')).status).toBe(400);
    expect((await post('customer_id=2', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post(JSON.stringify({ customer_id: 2, product_ids: Array(40_000).fill(1) }))).status).toBe(413);
    expect(outbox.pendingCount()).toBe(0);
    expect(watcher.messages).toHaveLength(0);
  });

  it('accepts scans while the broker is away and publishes them when it is back', async () => {
    await broker.pause();
    await waitUntil(() => !gate.bus.isConnected(), 'the gate to notice');
    const ids: string[] = [];
    for (const customer_id of [4, 5]) {
      const res = await post(JSON.stringify({ customer_id, product_ids: [1] }));
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { event_id: string }).event_id);
    }
    expect(outbox.pendingCount()).toBe(2);
    expect((await fetch(`http://127.0.0.1:${gate.http.port}/healthz`)).status).toBe(503);

    await broker.resume();
    const got = await watcher.waitFor(topic, 2, 15_000);
    expect(got.map((m) => m.json().event_id)).toEqual(ids);
    await waitUntil(() => outbox.pendingCount() === 0, 'the outbox to be marked sent');
  });
});

describe('POST /scans without the outbox keyed by event_id', () => {
  it('does not build: a retried scan would be stored twice', () => {
    const db = tempDatabase('gateexit-guardian', '');
    const config = loadConfig('gateexit-guardian', {
      env: { MQTT_URL: 'mqtt://127.0.0.1:1', STORE: 'gate-unkeyed' },
      dotenv: false,
    });
    const bus = connectBus(config, quietLogger());
    try {
      const outbox = createOutbox(db.db, bus, quietLogger(), ['customer-departure']);
      const store = { outbox, commits: createCommitter(db.db, immediateDurability()), topics: config.topics };
      expect(() => createScanRoute(store, 'customer-departure', quietLogger())).toThrow(
        'POST /scans needs OUTBOX_BY_EVENT_ID in the service schema',
      );
      outbox.stop();
    } finally {
      void bus.close(100);
      db.close();
    }
  });
});
