import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic, storeFilter, type EventName } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import {
  collect,
  skipWithoutMosquitto,
  startMosquitto,
  waitUntil,
  type Collector,
  type Mosquitto,
} from '@spectrum-grocers/testkit';
import { getJson, paymentFor, postJson, startStore, type RunningStore } from './harness.js';

const catalog = loadProductCatalog();

/** The shelves over time: empty baskets, empty shelves, and the deliveries that fill them again. */
describe.skipIf(skipWithoutMosquitto)('shelves and bills end to end: five service processes on Mosquitto', () => {
  let mosquitto: Mosquitto;
  let store: RunningStore;
  let watcher: Collector;
  const root = { chain: 'spectrum-grocers', store: `shelves-${process.pid}` };
  const topic = (e: EventName) => eventTopic(root, e);
  beforeAll(async () => {
    mosquitto = await startMosquitto();
    watcher = await collect(mosquitto.url, storeFilter(root));
    // The simulated supplier delivers a second after each restock alert.
    store = await startStore(mosquitto.url, root.store, { RESTOCK_DELAY_S: '1' });
  });
  afterAll(async () => {
    await store?.dispose();
    await watcher?.close();
    await mosquitto?.dispose();
  });

  it('bills nothing for a departure with an empty basket', async () => {
    const empty = await store.leave(11, []);
    // Departures are handled in order: once the next one is billed, the empty one was handled.
    await paymentFor(watcher, root, await store.leave(11, [1]));
    expect(watcher.on(topic('payment-due')).filter((m) => m.json().departure_event_id === empty)).toEqual([]);
  });

  it('answers a restock alert with a delivery that tops the product up', async () => {
    const p = catalog.get(12)!;
    await paymentFor(
      watcher,
      root,
      await store.leave(12, Array<number>(p.starting_stock - p.restock_threshold + 1).fill(12)),
    );
    const alert = await waitUntil(
      () => watcher.on(topic('restock-alert')).find((m) => m.json().item_id === 12),
      'the restock alert',
    );
    const delivery = await waitUntil(
      () => watcher.on(topic('stock-delivered')).find((m) => m.json().causation_id === alert.json().event_id),
      'the delivery',
    );
    expect(delivery.json()).toMatchObject({ product_id: 12, quantity: p.starting_stock - (p.restock_threshold - 1) });
    await waitUntil(
      async () => (await store.stockOf(12)) === p.starting_stock,
      'the product back at its starting stock',
    );
  });

  it('takes a delivery by POST /deliveries: the stock rises once per delivery id', async () => {
    const url = store.url('inventory-intel', '/deliveries');
    const before = await store.stockOf(14);
    const first = await postJson(url, { product_id: 14, quantity: 30, delivery_id: 'e2e-lorry-1' });
    expect(first).toEqual({
      status: 202,
      body: { delivery_id: 'e2e-lorry-1', event_id: expect.any(String) as unknown },
    });
    await waitUntil(async () => (await store.stockOf(14)) === before + 30, 'the delivery on the shelf');
    // Sent again (a retry): accepted again, the same event, nothing more on the shelf.
    expect(await postJson(url, { product_id: 14, quantity: 30, delivery_id: 'e2e-lorry-1' })).toEqual(first);
    // Other goods under the same id: refused, naming what the id stands for.
    const conflict = await postJson(url, { product_id: 14, quantity: 31, delivery_id: 'e2e-lorry-1' });
    expect(conflict).toEqual({ status: 409, body: { error: expect.stringMatching(/30 of product 14/) as unknown } });
    expect((await postJson(url, { product_id: 555, quantity: 1 })).status).toBe(400);
    for (const bad of [
      { product_id: 14 },
      { product_id: 14, quantity: 0 },
      { product_id: 14, quantity: 1.5 },
      { product_id: 14, quantity: 100_001 },
      { product_id: 14, quantity: '5' },
    ]) {
      const refused = await postJson(url, bad);
      expect(refused.status, JSON.stringify(bad)).toBe(400);
      expect(refused.body.error).toMatch(/quantity/);
    }
    for (const id of ['', 'x'.repeat(129), 'two words', '../../etc']) {
      const refused = await postJson(url, { product_id: 14, quantity: 1, delivery_id: id });
      expect(refused.status, id).toBe(400);
      expect(refused.body.error).toMatch(/delivery_id/);
    }
    const raw = (body: string, type = 'application/json') =>
      fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await raw('{"product_id": 14, "quantity": 1, "__proto__": {"admin": true}}')).status).toBe(400);
    expect((await raw('product_id=14&quantity=1', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await raw(JSON.stringify({ product_id: 14, quantity: 1, pad: 'x'.repeat(70_000) }))).status).toBe(413);
    // A delivery without an id gets one; the next delivery lands on before + 30 + 5 exactly.
    const unnamed = await postJson(url, { product_id: 14, quantity: 5 });
    expect(unnamed.body.delivery_id).toMatch(/^[0-9a-f-]{36}$/);
    await waitUntil(async () => (await store.stockOf(14)) === before + 35, 'the second delivery on the shelf');
    const deliveries = watcher.on(topic('stock-delivered')).filter((m) => m.json().product_id === 14);
    expect(deliveries.map((m) => m.json().delivery_id)).toEqual(['e2e-lorry-1', unnamed.body.delivery_id]);
  });

  it("lists a customer's bills with GET /bills?customer_id=, newest first, without the empty basket", async () => {
    const customer = 21;
    const first = await store.leave(customer, [1, 2]);
    await store.leave(customer, []);
    const second = await store.leave(customer, [3]);
    await paymentFor(watcher, root, first);
    await paymentFor(watcher, root, second);
    const list = await getJson<{ bills: Array<Record<string, unknown>> }>(
      store.url('fastlane-finale', `/bills?customer_id=${customer}`),
    );
    expect(list.bills.map((b) => b.departure_event_id)).toEqual([second, first]);
    expect(list.bills[1]).toMatchObject({
      customer_id: customer,
      item_count: 2,
      amount_cents: catalog.get(1)!.price_cents + catalog.get(2)!.price_cents,
    });
    const one = await getJson<{ bills: unknown[]; next: string }>(
      store.url('fastlane-finale', `/bills?customer_id=${customer}&limit=1`),
    );
    expect(one.bills).toHaveLength(1);
    const two = await getJson<{ bills: Array<Record<string, unknown>>; next?: string }>(
      store.url('fastlane-finale', `/bills?customer_id=${customer}&limit=1&after=${one.next}`),
    );
    expect(two.bills.map((b) => b.departure_event_id)).toEqual([first]);
    for (const bad of [
      '',
      '?customer_id=__proto__',
      '?customer_id=-1',
      '?customer_id=0x10',
      '?customer_id=1&limit=100000',
    ]) {
      const res = await fetch(store.url('fastlane-finale', `/bills${bad}`));
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/customer_id|limit/);
    }
  });
});
