import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect, quietLogger, startAedes, type Collector, type EmbeddedTestBroker } from '@spectrum-grocers/testkit';
import { connectBus, type Bus } from './bus.js';
import { loadConfig } from './config.js';
import { createScanRoute } from './gate.js';
import { startHttpServer, type HttpServer } from './http.js';
import { eventTopic } from './topics.js';

describe('POST /scans at the exit gate', () => {
  let broker: EmbeddedTestBroker;
  let bus: Bus;
  let http: HttpServer;
  let watcher: Collector;
  const root = { chain: 'spectrum-grocers', store: `gate-${process.pid}` };
  const topic = eventTopic(root, 'customer-departure');

  beforeEach(async () => {
    broker = await startAedes();
    const config = loadConfig('gateexit-guardian', {
      env: {
        MQTT_URL: broker.url,
        STORE: root.store,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        MQTT_RECONNECT_MIN_MS: '60000',
        MQTT_RECONNECT_MAX_MS: '60000',
      },
      defaultHttpPort: 0,
      dotenv: false,
    });
    const log = quietLogger();
    bus = connectBus(config, log);
    await bus.ready;
    http = await startHttpServer(config, log, {
      routes: {
        'POST /scans': createScanRoute(bus, 'customer-departure', log, () => new Date('2026-11-22T10:00:00Z')),
      },
      healthy: () => ({ ok: bus.isConnected(), detail: {} }),
    });
    watcher = await collect(broker.url, topic);
  });
  afterEach(async () => {
    await http.close();
    await bus.close();
    await watcher.close();
    await broker.close();
  });

  const post = (body: string, type = 'application/json') =>
    fetch(`http://127.0.0.1:${http.port}/scans`, { method: 'POST', headers: { 'content-type': type }, body });

  it('answers 202 with the event_id once the broker has the departure', async () => {
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

  it("keeps a sensor's own event_id, so its retries are recognised downstream", async () => {
    const res = await post(JSON.stringify({ customer_id: 2, product_ids: [5], event_id: 'exit-7:1001' }));
    expect(await res.json()).toEqual({ event_id: 'exit-7:1001' });
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
    expect(watcher.messages).toHaveLength(0);
  });

  it('answers 503 with the id to retry with while the broker is away, publishing nothing', async () => {
    await broker.pause();
    await new Promise((r) => setTimeout(r, 100));
    const res = await post(JSON.stringify({ customer_id: 2, product_ids: [1] }));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { event_id: string }).event_id).toMatch(/^[0-9a-f-]{36}$/);
    const health = await fetch(`http://127.0.0.1:${http.port}/healthz`);
    expect(health.status).toBe(503);
  });
});
