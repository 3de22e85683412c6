import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterTopic, eventTopic, SERVICES, statusTopic, storeFilter } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import {
  collect,
  skipWithoutMosquitto,
  spawnService,
  tempDir,
  startMosquitto,
  waitUntil,
  type Collector,
  type Mosquitto,
} from '@spectrum-grocers/testkit';
import { getJson, paymentFor, postJson, startStore, type RunningStore } from './harness.js';

const catalog = loadProductCatalog();
type Stock = Array<{ product_id: number; quantity: number; threshold: number }>;

describe.skipIf(skipWithoutMosquitto)('the store end to end: five service processes on Mosquitto', () => {
  let mosquitto: Mosquitto;
  let store: RunningStore;
  let watcher: Collector;
  const root = { chain: 'spectrum-grocers', store: `e2e-${process.pid}` };
  const topic = (e: Parameters<typeof eventTopic>[1]) => eventTopic(root, e);

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    watcher = await collect(mosquitto.url, storeFilter(root));
    store = await startStore(mosquitto.url, root.store);
  });
  afterAll(async () => {
    await store?.dispose();
    await watcher?.close();
    await mosquitto?.dispose();
  });

  it('welcomes a scanned customer by name on the display', async () => {
    const scan = await postJson(store.url('gateway-guardian', '/scans'), { customer_id: 1 });
    expect(scan.status).toBe(202);
    const welcome = await waitUntil(
      () => watcher.on(topic('display-welcome')).find((m) => m.json().customer_id === 1),
      'the welcome',
    );
    expect(welcome.json()).toMatchObject({ name: 'Dave', message: 'Welcome, Dave' });
    await store.services['hello-helper'].waitForLog('Welcome, Dave');
  });

  it('bills a departure at the catalog price and takes the items off the shelves', async () => {
    const before = [await store.stockOf(1), await store.stockOf(16)];
    const scan = await postJson(store.url('gateexit-guardian', '/scans'), { customer_id: 2, product_ids: [1, 16, 1] });
    expect(scan.status).toBe(202);
    const payment = (await paymentFor(watcher, root, scan.body.event_id as string)).json();
    const cents = 2 * catalog.get(1)!.price_cents + catalog.get(16)!.price_cents;
    expect(payment).toMatchObject({ customer_id: 2, amount_cents: cents, amount: cents / 100 });
    await waitUntil(async () => (await store.stockOf(16)) === before[1]! - 1, 'the stock decrement');
    expect(await store.stockOf(1)).toBe(before[0]! - 2);
  });

  it('raises exactly one restock-alert when a product is pushed under its threshold', async () => {
    const id = 42;
    const { threshold } = (await getJson<Stock>(store.url('inventory-intel', '/stock'))).find(
      (s) => s.product_id === id,
    )!;
    const take = (await store.stockOf(id)) - threshold + 1;
    const first = await postJson(store.url('gateexit-guardian', '/scans'), {
      customer_id: 3,
      product_ids: Array(take).fill(id),
    });
    const second = await postJson(store.url('gateexit-guardian', '/scans'), { customer_id: 3, product_ids: [id] });
    await paymentFor(watcher, root, first.body.event_id as string);
    await paymentFor(watcher, root, second.body.event_id as string);
    await waitUntil(async () => (await store.stockOf(id)) === threshold - 2, 'both departures at inventory-intel');
    const alerts = watcher.on(topic('restock-alert')).filter((m) => m.json().item_id === id);
    expect(alerts.map((m) => m.json())).toEqual([
      expect.objectContaining({ item_id: id, quantity: threshold - 1, threshold }),
    ]);
  });

  it('takes a departure from an empty shelf: billed, and the stock stays at 0', async () => {
    const p = catalog.get(13)!;
    await paymentFor(watcher, root, await store.leave(13, Array<number>(p.starting_stock).fill(13)));
    await waitUntil(async () => (await store.stockOf(13)) === 0, 'the shelf empty');
    // The goods left the store all the same: the scan is taken and billed.
    const payment = (await paymentFor(watcher, root, await store.leave(13, [13, 13]))).json();
    expect(payment.amount_cents).toBe(2 * p.price_cents);
    const before = await store.stockOf(1);
    await paymentFor(watcher, root, await store.leave(13, [1]));
    await waitUntil(async () => (await store.stockOf(1)) === before - 1, 'the marker at inventory-intel');
    expect(await store.stockOf(13)).toBe(0);
    // One alert for the crossing, none for the empty shelf.
    expect(watcher.on(topic('restock-alert')).filter((m) => m.json().item_id === 13)).toHaveLength(1);
  });

  it('bills a departure delivered twice once, and takes its items once', async () => {
    const before = await store.stockOf(5);
    const departure = {
      event_id: 'e2e-dup-1',
      timestamp: new Date().toISOString(),
      customer_id: 4,
      product_ids: [5, 5],
    };
    await watcher.publish(topic('customer-departure'), departure);
    await watcher.publish(topic('customer-departure'), departure);
    // Handling is in order: once the next departure is billed, both copies were handled.
    const marker = await postJson(store.url('gateexit-guardian', '/scans'), { customer_id: 4, product_ids: [6] });
    await paymentFor(watcher, root, marker.body.event_id as string);
    await waitUntil(
      async () => (await store.stockOf(6)) < catalog.get(6)!.starting_stock,
      'the marker at inventory-intel',
    );
    expect(watcher.on(topic('payment-due')).filter((m) => m.json().departure_event_id === 'e2e-dup-1')).toHaveLength(1);
    expect(await store.stockOf(5)).toBe(before - 2);
  });

  it('sends a malformed departure to dead-letter and keeps billing the next one', async () => {
    await watcher.publish(topic('customer-departure'), '{"customer_id": 7, "product_ids": [1, "two"]');
    await watcher.publish(topic('customer-departure'), {
      timestamp: new Date().toISOString(),
      customer_id: 7,
      product_ids: [999],
    });
    const next = await postJson(store.url('gateexit-guardian', '/scans'), { customer_id: 7, product_ids: [2] });
    await paymentFor(watcher, root, next.body.event_id as string);
    for (const service of ['inventory-intel', 'fastlane-finale'] as const) {
      const letters = await watcher.waitFor(deadLetterTopic(root, service), 2);
      expect(letters[0]!.json().reason).toMatch(/not valid JSON/);
      expect(letters[1]!.json().reason).toMatch(/UNKNOWN_PRODUCT.*999/);
    }
  });

  it('exposes Prometheus metrics on every service: events in and out per topic, latency, dead-letters, outbox depth', async () => {
    const scrape = async (service: (typeof SERVICES)[number]) => {
      const res = await fetch(store.url(service, '/metrics'));
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    const series = (text: string, name: string, labels: Record<string, string>) => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    // The dead-letter test above refused two departures; one more good one now.
    const scan = await postJson(store.url('gateexit-guardian', '/scans'), { customer_id: 2, product_ids: [4] });
    await paymentFor(watcher, root, scan.body.event_id as string);
    const fastlane = await waitUntil(async () => {
      const text = await scrape('fastlane-finale');
      return (series(text, 'ff_events_out_total', { topic: topic('payment-due') }) ?? 0) >= 1 ? text : undefined;
    }, 'payment-due counted');
    const departures = { topic: topic('customer-departure') };
    expect(series(fastlane, 'ff_events_in_total', { ...departures, outcome: 'handled' })).toBeGreaterThanOrEqual(1);
    expect(series(fastlane, 'ff_events_in_total', { ...departures, outcome: 'dead_letter' })).toBe(2);
    expect(series(fastlane, 'ff_dead_letters_total', departures)).toBe(2);
    expect(series(fastlane, 'ff_batch_messages_sum', {})).toBeGreaterThanOrEqual(3);
    expect(series(fastlane, 'ff_broker_connected', { service: 'fastlane-finale' })).toBe(1);
    expect(series(fastlane, 'ff_outbox_pending', { service: 'fastlane-finale' })).toBe(0);
    const gate = await scrape('gateexit-guardian');
    expect(series(gate, 'ff_events_out_total', departures)).toBeGreaterThanOrEqual(1);
    for (const service of SERVICES) expect(await scrape(service)).toContain('ff_broker_reconnects_total{service="');
  });

  it('stops a gate promptly on SIGTERM while its simulated sensor is scanning', async () => {
    const data = tempDir();
    const gate = spawnService('gateexit-guardian', {
      DATA_DIR: data.path,
      MQTT_URL: mosquitto.url,
      STORE: root.store,
      MQTT_CLIENT_ID: `${root.store}-second-exit-gate`,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      SIMULATE: 'true',
      SCAN_INTERVAL_MIN_S: '0.01',
      SCAN_INTERVAL_MAX_S: '0.05',
    });
    await waitUntil(() => gate.output().split('"msg":"departure ').length > 5, 'five simulated scans');
    const started = Date.now();
    expect(await gate.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    data.remove();
  });

  it('stops every service with exit code 0 on SIGTERM and leaves its status offline', async () => {
    const codes = await store.stop();
    expect(codes).toEqual(Object.fromEntries(SERVICES.map((s) => [s, 0])));
    const late = await collect(mosquitto.url, `${root.chain}/${root.store}/status/+`);
    try {
      await late.waitFor(statusTopic(root, 'fastlane-finale'));
      await waitUntil(() => late.messages.length >= SERVICES.length, 'all retained statuses');
      for (const s of SERVICES) expect(late.on(statusTopic(root, s))[0]!.json()).toMatchObject({ status: 'offline' });
    } finally {
      await late.close();
    }
  });
});
