import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveEventId, eventTopic, type ServiceName } from '@spectrum-grocers/contract';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { collect, waitUntil, type Collector } from '@spectrum-grocers/testkit';
import { startFaultStore, type FaultStore } from './store.js';

const COUNT = 10_000;
const DUPLICATE_SHARE = 0.2;
const REPLAY = 1_000;
const KILLS = 3;
const catalog = loadProductCatalog();

/** A repeatable random source in [0, 1). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/**
 * 10,000 departures taking 85% of every product's stock (so each product crosses its restock
 * threshold once and none runs out), one item or none per basket, in a repeatable order.
 */
function departures(random: () => number) {
  const units = catalog.products.flatMap((p) => Array<number>(Math.floor(p.starting_stock * 0.85)).fill(p.id));
  for (let i = units.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [units[i], units[j]] = [units[j]!, units[i]!];
  }
  return Array.from({ length: COUNT }, (_, i) => ({
    event_id: `fault-${i}`,
    timestamp: new Date(Date.UTC(2026, 10, 22, 10, 0, 0, i)).toISOString(),
    customer_id: 1 + (i % 10),
    product_ids: i < units.length ? [units[i]!] : [],
  }));
}

describe('kill -9 the consumers mid-stream, three times each', () => {
  let store: FaultStore;
  let watcher: Collector;
  const kills: Record<string, number> = {};
  /** The most messages each consumer committed in one batch, as its /healthz said before each kill. */
  const largestBatch: Record<string, number> = {};
  let billable = COUNT;

  beforeAll(async () => {
    store = await startFaultStore({ DB_SYNCHRONOUS: 'full' });
    await store.start('inventory-intel');
    await store.start('fastlane-finale');
    watcher = await collect(
      store.broker.url,
      [eventTopic(store.root, 'payment-due'), eventTopic(store.root, 'restock-alert')],
      {
        ...store.watcher(),
        clean: false,
        clientId: 'fault-watcher',
      },
    );
  }, 60_000);
  afterAll(async () => {
    await watcher?.close();
    await store?.dispose();
  });

  /**
   * kill -9 at three random moments while the stream flows (when 5–85% of the departures are
   * billed), restarting on the same data each time.
   */
  async function killer(name: ServiceName, random: () => number): Promise<void> {
    kills[name] = 0;
    const moments = Array.from({ length: KILLS }, () => 0.05 + random() * 0.8).sort((a, b) => a - b);
    for (const moment of moments) {
      await waitUntil(() => paidDepartures() >= moment * billable, `${Math.round(moment * 100)}% billed`, 120_000);
      const { largestBatch: largest = 0 } = (await (await fetch(store.httpUrl(name, '/healthz'))).json()) as {
        largestBatch?: number;
      };
      largestBatch[name] = Math.max(largestBatch[name] ?? 0, largest);
      await store.kill(name);
      kills[name]++;
      await sleep(50 + random() * 400);
      await store.start(name);
    }
  }

  it('bills every departure once at the catalog price and takes every item once, whatever was killed, duplicated or replayed', async () => {
    const random = seeded(2026);
    const all = departures(random);
    // An empty basket owes nothing: no payment is requested for it.
    billable = all.filter((d) => d.product_ids.length > 0).length;
    const topic = eventTopic(store.root, 'customer-departure');
    const gate = await mqtt.connectAsync(store.broker.url, {
      ...store.account('gateexit-guardian'),
      reconnectPeriod: 500,
    });
    const killers = Promise.all([killer('fastlane-finale', seeded(7)), killer('inventory-intel', seeded(11))]);

    // The exit gate's stream: every departure, a fifth of them sent twice (same event_id).
    let next = 0;
    let duplicates = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < all.length) {
          const d = all[next++]!;
          const body = JSON.stringify(d);
          await gate.publishAsync(topic, body, { qos: 1 });
          if (random() < DUPLICATE_SHARE) {
            duplicates++;
            await gate.publishAsync(topic, body, { qos: 1 });
          }
        }
      }),
    );
    // A replay of 1,000 old departures, as a confused sensor or an operator might send.
    for (const d of all.slice(0, REPLAY)) await gate.publishAsync(topic, JSON.stringify(d), { qos: 1 });

    await waitUntil(() => paidDepartures() >= billable, `payments for all ${billable} billable departures`, 240_000);
    await killers;
    const expectedStock = new Map(catalog.products.map((p) => [p.id, p.starting_stock]));
    for (const d of all) for (const id of d.product_ids) expectedStock.set(id, expectedStock.get(id)! - 1);
    const stock = await waitUntil(
      async () => {
        const rows = (await (await fetch(store.httpUrl('inventory-intel', '/stock'))).json()) as Array<{
          product_id: number;
          quantity: number;
        }>;
        return rows.every((r) => r.quantity === expectedStock.get(r.product_id)) ? rows : undefined;
      },
      'the final stock',
      120_000,
    ).catch(() => undefined);
    await gate.endAsync();

    // Payments: exactly one distinct payment id per departure, derived from it, at the catalog price.
    const byDeparture = new Map<string, Set<string>>();
    for (const m of watcher.on(eventTopic(store.root, 'payment-due'))) {
      const p = m.json<{ event_id: string; departure_event_id: string; amount_cents: number }>();
      const ids = byDeparture.get(p.departure_event_id) ?? new Set<string>();
      ids.add(`${p.event_id}|${p.amount_cents}`);
      byDeparture.set(p.departure_event_id, ids);
    }
    expect(byDeparture.size).toBe(billable);
    for (const d of all) {
      if (d.product_ids.length === 0) {
        expect(byDeparture.get(d.event_id), 'an empty basket is not billed').toBeUndefined();
        continue;
      }
      const cents = d.product_ids.reduce((sum, id) => sum + catalog.get(id)!.price_cents, 0);
      expect([...byDeparture.get(d.event_id)!]).toEqual([`${deriveEventId('payment-due', d.event_id)}|${cents}`]);
    }

    // Stock: start minus the items, exactly; one restock alert per product that crossed.
    expect(stock, 'stock reached start minus items').toBeDefined();
    const alerts = new Map<number, Set<string>>();
    for (const m of watcher.on(eventTopic(store.root, 'restock-alert'))) {
      const a = m.json<{ event_id: string; item_id: number }>();
      alerts.set(a.item_id, (alerts.get(a.item_id) ?? new Set()).add(a.event_id));
    }
    const crossed = catalog.products.filter((p) => expectedStock.get(p.id)! < p.restock_threshold).map((p) => p.id);
    expect([...alerts.keys()].sort((a, b) => a - b)).toEqual(crossed);
    for (const ids of alerts.values()) expect(ids.size).toBe(1);

    expect(kills).toEqual({ 'fastlane-finale': KILLS, 'inventory-intel': KILLS });
    // Killed while holding many messages at once, not one at a time.
    for (const name of Object.keys(kills)) expect(largestBatch[name], `${name}'s largest batch`).toBeGreaterThan(1);
    const received = watcher.on(eventTopic(store.root, 'payment-due')).length;
    process.stdout.write(
      `faults: ${COUNT} departures (+${duplicates} duplicates, +${REPLAY} replayed), ${KILLS} kill -9 each of ` +
        `fastlane-finale and inventory-intel (largest batches ${JSON.stringify(largestBatch)}): ` +
        `${byDeparture.size} departures billed once; ${received} payment-due ` +
        `messages seen (${received - billable} redelivered copies, same ids); ${crossed.length} restock alerts, one per crossing\n`,
    );
  }, 300_000);

  function paidDepartures(): number {
    return new Set(watcher.on(eventTopic(store.root, 'payment-due')).map((m) => m.json().departure_event_id)).size;
  }
});
