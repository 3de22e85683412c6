import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterTopic, deriveEventId, eventTopic, storeFilter, type EventName } from '@spectrum-grocers/contract';
import { loadConfig, loadProductCatalog, startService, type RunningService } from '@spectrum-grocers/runtime';
import {
  collect,
  quietLogger,
  startAedes,
  tempDir,
  TEST_SERVICE_ENV,
  waitUntil,
  type Collector,
  type EmbeddedTestBroker,
} from '@spectrum-grocers/testkit';
import { InventoryEnv, inventorySpec } from './inventory.js';

const catalog = loadProductCatalog();
type Stock = Array<{ product_id: number; quantity: number; threshold: number }>;

/** inventory-intel in this process on a real (embedded) broker, with its supplier on a clock the test moves. */
describe('inventory-intel: the restocking loop', () => {
  let broker: EmbeddedTestBroker;
  let watcher: Collector;
  let data: ReturnType<typeof tempDir>;
  let running: { service: RunningService; work: AbortController; supplier: Promise<void> } | undefined;
  let now = Date.parse('2026-11-24T10:00:00Z');
  const clock = () => new Date(now);
  const root = { chain: 'spectrum-grocers', store: `restock-${process.pid}` };
  const topic = (e: EventName) => eventTopic(root, e);
  let n = 0;

  async function start(env: Record<string, string> = {}): Promise<void> {
    const config = loadConfig('inventory-intel', {
      options: InventoryEnv,
      env: { ...TEST_SERVICE_ENV, MQTT_URL: broker.url, STORE: root.store, DATA_DIR: data.path, ...env },
      dotenv: false,
    });
    const spec = inventorySpec(clock);
    const work = new AbortController();
    let supplier: Promise<void> = Promise.resolve();
    const service = await startService(
      {
        ...spec,
        started: (ctx) => {
          supplier = spec.run!(ctx, work.signal);
        },
      },
      config,
      quietLogger(),
    );
    running = { service, work, supplier };
  }
  async function stop(): Promise<void> {
    if (!running) return;
    running.work.abort();
    await running.supplier;
    await running.service.stop();
    running = undefined;
  }
  const stockOf = async (id: number) => {
    const res = await fetch(`http://127.0.0.1:${running!.service.http.port}/stock`);
    return ((await res.json()) as Stock).find((s) => s.product_id === id)!.quantity;
  };
  const depart = (product_ids: number[]) =>
    watcher.publish(topic('customer-departure'), {
      event_id: `dep-${process.pid}-${++n}`,
      timestamp: clock().toISOString(),
      customer_id: 4,
      product_ids,
    });

  beforeEach(async () => {
    broker = await startAedes();
    data = tempDir();
    watcher = await collect(broker.url, storeFilter(root));
  });
  afterEach(async () => {
    await stop();
    await watcher.close();
    await broker.close();
    data.remove();
  });

  it('answers a restock alert with a delivery after RESTOCK_DELAY_S, topping the product up once', async () => {
    await start({ RESTOCK_DELAY_S: '60' });
    const p = catalog.get(3)!;
    await depart(Array<number>(p.starting_stock - p.restock_threshold + 1).fill(3));
    const [alert] = await watcher.waitFor(topic('restock-alert'));
    const left = p.restock_threshold - 1;
    expect(alert!.json()).toMatchObject({ item_id: 3, quantity: left });
    // Not before it is due: the supplier looks every second.
    await new Promise((r) => setTimeout(r, 1500));
    expect(watcher.on(topic('stock-delivered'))).toEqual([]);
    now += 61_000;
    const [delivery] = await watcher.waitFor(topic('stock-delivered'));
    expect(delivery!.json()).toMatchObject({
      causation_id: alert!.json().event_id,
      product_id: 3,
      quantity: p.starting_stock - left,
    });
    await waitUntil(async () => (await stockOf(3)) === p.starting_stock, 'the delivery on the shelf');
    now += 61_000;
    await new Promise((r) => setTimeout(r, 1500));
    expect(watcher.on(topic('stock-delivered'))).toHaveLength(1);
    expect(await stockOf(3)).toBe(p.starting_stock);
  });

  it('keeps an order across a restart: the delivery still comes, once', async () => {
    await start({ RESTOCK_DELAY_S: '30' });
    const p = catalog.get(4)!;
    await depart(Array<number>(p.starting_stock - p.restock_threshold + 1).fill(4));
    await watcher.waitFor(topic('restock-alert'));
    await stop();
    now += 31_000;
    await start({ RESTOCK_DELAY_S: '30' });
    await watcher.waitFor(topic('stock-delivered'));
    await waitUntil(async () => (await stockOf(4)) === p.starting_stock, 'the delivery on the shelf');
    await new Promise((r) => setTimeout(r, 1500));
    expect(watcher.on(topic('stock-delivered'))).toHaveLength(1);
  });

  it('orders nothing with RESTOCK_DELAY_S=off', async () => {
    await start({ RESTOCK_DELAY_S: 'off' });
    const p = catalog.get(5)!;
    await depart(Array<number>(p.starting_stock).fill(5));
    await watcher.waitFor(topic('restock-alert'));
    now += 86_400_000;
    await new Promise((r) => setTimeout(r, 1500));
    expect(watcher.on(topic('stock-delivered'))).toEqual([]);
    expect(await stockOf(5)).toBe(0);
  });

  it("raises the stock by anyone's delivery once per delivery id, and dead-letters other goods under it", async () => {
    await start({ RESTOCK_DELAY_S: 'off' });
    const before = await stockOf(6);
    const delivery = (event_id: string, quantity: number) =>
      watcher.publish(topic('stock-delivered'), {
        event_id,
        timestamp: clock().toISOString(),
        delivery_id: 'hq-order-77',
        product_id: 6,
        quantity,
      });
    await delivery('hq-1', 20);
    await delivery('hq-2', 20); // the head office sent it again, under a new event id
    await delivery('hq-3', 25); // a different delivery under the same id
    const [letter] = await watcher.waitFor(deadLetterTopic(root, 'inventory-intel'));
    expect(letter!.json()).toMatchObject({
      reason: expect.stringMatching(/DELIVERY_CONFLICT.*hq-order-77/) as unknown,
    });
    expect(await stockOf(6)).toBe(before + 20);
  });

  it('handles a departure and a delivery that share an event_id: ids are unique within a kind only', async () => {
    await start({ RESTOCK_DELAY_S: 'off' });
    const [before7, before8] = [await stockOf(7), await stockOf(8)];
    const shared = 'shared-id-1';
    await watcher.publish(topic('customer-departure'), {
      event_id: shared,
      timestamp: clock().toISOString(),
      customer_id: 4,
      product_ids: [7],
    });
    await watcher.publish(topic('stock-delivered'), {
      event_id: shared,
      timestamp: clock().toISOString(),
      delivery_id: 'lorry-shared',
      product_id: 8,
      quantity: 9,
    });
    await waitUntil(async () => (await stockOf(8)) === before8 + 9, 'the delivery on the shelf');
    expect(await stockOf(7)).toBe(before7 - 1);
  });

  const post = async (path: string, body: object) => {
    const res = await fetch(`http://127.0.0.1:${running!.service.http.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const health = async () =>
    (await (await fetch(`http://127.0.0.1:${running!.service.http.port}/healthz`)).json()) as Record<string, unknown>;

  it('drops a supplier order that can never be delivered, and delivers the others', async () => {
    await start({ RESTOCK_DELAY_S: '30' });
    const [p3, p4] = [catalog.get(3)!, catalog.get(4)!];
    await depart(Array<number>(p3.starting_stock - p3.restock_threshold + 1).fill(3));
    const [alert] = await watcher.waitFor(topic('restock-alert'));
    // Someone takes the supplier's delivery id for other goods first.
    const taken = deriveEventId('supplier-delivery', alert!.json<{ event_id: string }>().event_id);
    expect((await post('/deliveries', { product_id: 3, quantity: 1, delivery_id: taken })).status).toBe(202);
    await depart(Array<number>(p4.starting_stock - p4.restock_threshold + 1).fill(4));
    await watcher.waitFor(topic('restock-alert'), 2);
    now += 31_000;
    await waitUntil(async () => (await stockOf(4)) === p4.starting_stock, 'the other order delivered');
    expect(await stockOf(3)).toBe(p3.restock_threshold - 1 + 1);
    expect(await health()).toMatchObject({ status: 'ok', supplier: { open: 0, dropped: 1 } });
  });

  it('refuses with 409 a delivery id received from elsewhere with other goods', async () => {
    await start({ RESTOCK_DELAY_S: 'off' });
    const before = await stockOf(9);
    await watcher.publish(topic('stock-delivered'), {
      event_id: 'hq-9',
      timestamp: clock().toISOString(),
      delivery_id: 'hq-order-9',
      product_id: 9,
      quantity: 5,
    });
    await waitUntil(async () => (await stockOf(9)) === before + 5, 'the delivery on the shelf');
    const conflict = await post('/deliveries', { product_id: 9, quantity: 6, delivery_id: 'hq-order-9' });
    expect(conflict).toEqual({ status: 409, body: { error: expect.stringMatching(/5 of product 9/) as unknown } });
    expect((await post('/deliveries', { product_id: 9, quantity: 5, delivery_id: 'hq-order-9' })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(await stockOf(9)).toBe(before + 5);
  });
});
