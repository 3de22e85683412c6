import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { deriveEventId, eventTopic, type ServiceName } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { collect, waitUntil, type Collector } from '@spectrum-grocers/testkit';
import { startFaultStore, type FaultStore } from './store.js';

const COUNT = 4_000;
/** Published while the consumers are down, so each comes back to a full window of messages. */
const BACKLOG = 1_000;
/** The rest arrives at this pace, so the stream still flows while the consumers die and restart. */
const PER_SECOND = 500;
const KILL_AFTER_BATCHES = 5;
/** MAX_IN_FLIGHT's default: the most messages a consumer holds, and so commits, at once. */
const MAX_IN_FLIGHT = 256;
const FAILPOINT_MSG = 'failpoint kill-after-commit: killing the process between commit and acknowledgements';
const CONSUMERS = ['fastlane-finale', 'inventory-intel'] as const;
const catalog = loadProductCatalog();

interface Departure {
  event_id: string;
  timestamp: string;
  customer_id: number;
  product_ids: number[];
}

interface Health {
  handled?: number;
  duplicates?: number;
  deadLettered?: number;
  outboxPending?: number;
}

/** How a consumer died at its failpoint, as its exit and its last log line tell it. */
interface Killed {
  name: ServiceName;
  signal: NodeJS.Signals | null;
  lines: Array<{ level?: unknown; batch?: unknown }>;
  batch: number;
  /** Departures the broker had acknowledged to the publisher when the death was seen. */
  publishedAtDeath: number;
}

/** A repeatable random source in [0, 1). */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/**
 * Departures of up to three items (a tenth of them empty), drawn from a pool holding 60–130% of
 * each product's stock: most products cross their restock threshold, some are sold out and more.
 */
function departures(random: () => number): Departure[] {
  const units = catalog.products.flatMap((p) =>
    Array<number>(Math.floor(p.starting_stock * (0.6 + random() * 0.7))).fill(p.id),
  );
  for (let i = units.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [units[i], units[j]] = [units[j]!, units[i]!];
  }
  return Array.from({ length: COUNT }, (_, i) => ({
    event_id: `commit-ack-${i}`,
    timestamp: new Date(Date.UTC(2026, 10, 24, 10, 0, 0, i)).toISOString(),
    customer_id: 1 + (i % 10),
    product_ids: random() < 0.1 ? [] : units.splice(0, 1 + Math.floor(random() * 3)),
  }));
}

/** Start minus what was sold, never below zero: inventory-intel clamps each take at 0. */
function expectedStock(all: readonly Departure[]): Map<number, number> {
  const stock = new Map(catalog.products.map((p) => [p.id, p.starting_stock]));
  for (const d of all) for (const id of d.product_ids) stock.set(id, stock.get(id)! - 1);
  return new Map([...stock].map(([id, q]) => [id, Math.max(0, q)]));
}

/** The JSON lines of a process's output (a line cut short by the kill is skipped). */
function logLines(out: string): Array<Record<string, unknown>> {
  return out.split('\n').flatMap((line) => {
    try {
      return line.startsWith('{') ? [JSON.parse(line) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

describe('a consumer killed between its commit and its acknowledgements', () => {
  let store: FaultStore;
  let watcher: Collector;
  let gate: MqttClient;
  let published = 0;

  beforeAll(async () => {
    store = await startFaultStore({ DB_SYNCHRONOUS: 'full' });
    // Each consumer's session (and subscription) exists before the first departure.
    for (const name of CONSUMERS) {
      await store.start(name);
      expect(await store.proc(name).stop('SIGTERM')).toBe(0);
    }
    watcher = await collect(
      store.broker.url,
      [eventTopic(store.root, 'payment-due'), eventTopic(store.root, 'restock-alert')],
      { ...store.watcher(), clean: false, clientId: 'commit-ack-watcher' },
    );
    gate = await mqtt.connectAsync(store.broker.url, { ...store.account('gateexit-guardian'), reconnectPeriod: 500 });
  }, 60_000);
  afterAll(async () => {
    await gate?.endAsync(true);
    await watcher?.close();
    await store?.dispose();
  });

  /** Publish at QoS 1 from 100 senders at once; at `perSecond` in all when given. */
  async function publish(list: readonly Departure[], perSecond?: number): Promise<void> {
    const topic = eventTopic(store.root, 'customer-departure');
    const startedAt = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (next < list.length) {
          const i = next++;
          if (perSecond !== undefined) await sleep(Math.max(0, startedAt + (i * 1000) / perSecond - Date.now()));
          await gate.publishAsync(topic, JSON.stringify(list[i]), { qos: 1 });
          published++;
        }
      }),
    );
  }

  /** Start `name` with the failpoint and wait for it to die there. */
  async function dieAtFailpoint(name: ServiceName): Promise<Killed> {
    const proc = store.launch(name, { FAILPOINT: `kill-after-commit:${KILL_AFTER_BATCHES}` });
    await waitUntil(
      () => proc.child.exitCode !== null || proc.child.signalCode !== null,
      `${name} to die at its failpoint`,
      60_000,
    );
    const lines = logLines(proc.output()).filter((l) => l.msg === FAILPOINT_MSG);
    return { name, signal: proc.child.signalCode, lines, batch: Number(lines[0]?.batch), publishedAtDeath: published };
  }

  const health = async (name: ServiceName) => (await (await fetch(store.httpUrl(name, '/healthz'))).json()) as Health;

  it('bills and stocks every departure exactly once: the broker redelivers the committed batch and it is recognised', async () => {
    const all = departures(seeded(2027));
    const billable = all.filter((d) => d.product_ids.length > 0);
    const stock = expectedStock(all);
    const oversold = catalog.products.filter((p) => sold(all, p.id) > p.starting_stock);
    expect(oversold.length, 'some products are sold out and more (the clamp at 0)').toBeGreaterThan(0);

    const startedAt = Date.now();
    await publish(all.slice(0, BACKLOG));
    const rest = publish(all.slice(BACKLOG), PER_SECOND);
    const [killed] = await Promise.all([
      Promise.all(
        CONSUMERS.map(async (name) => {
          const k = await dieAtFailpoint(name);
          await store.start(name);
          return k;
        }),
      ),
      rest,
    ]);
    const publishedAt = Date.now();

    for (const k of killed) {
      expect(k.signal, `${k.name} died by SIGKILL`).toBe('SIGKILL');
      expect(k.lines, `${k.name} logged the failpoint once`).toHaveLength(1);
      expect(k.lines[0]!.level, 'at error level').toBe(50);
      expect(k.batch, `${k.name} held many messages in its last batch`).toBeGreaterThan(1);
      expect(k.batch, 'and no more than MAX_IN_FLIGHT').toBeLessThanOrEqual(MAX_IN_FLIGHT);
      expect(k.publishedAtDeath, `${k.name} died while the stream still flowed`).toBeLessThan(COUNT);
    }

    // Payments: one distinct payment id per non-empty departure, derived from it, at the catalog price.
    await waitUntil(() => paidDepartures() >= billable.length, `payments for ${billable.length} departures`, 120_000);
    // Whatever either consumer still had to publish (a late copy or a stray alert) is out before counting.
    await waitUntil(
      async () => (await Promise.all(CONSUMERS.map(health))).every((h) => h.outboxPending === 0),
      'both outboxes to empty',
      30_000,
    );
    const byDeparture = new Map<string, Set<string>>();
    for (const m of watcher.on(eventTopic(store.root, 'payment-due'))) {
      const p = m.json<{ event_id: string; departure_event_id: string; amount_cents: number }>();
      byDeparture.set(
        p.departure_event_id,
        (byDeparture.get(p.departure_event_id) ?? new Set()).add(`${p.event_id}|${p.amount_cents}`),
      );
    }
    expect(byDeparture.size).toBe(billable.length);
    for (const d of billable) {
      const cents = d.product_ids.reduce((sum, id) => sum + catalog.get(id)!.price_cents, 0);
      expect([...byDeparture.get(d.event_id)!]).toEqual([`${deriveEventId('payment-due', d.event_id)}|${cents}`]);
    }

    // Bills: fastlane-finale's own record, one per non-empty departure, none for an empty one.
    const bills = await allBills();
    expect(bills.size).toBe(billable.length);
    for (const d of billable) expect(bills.get(d.event_id), `bills for ${d.event_id}`).toBe(1);

    // Stock: start minus sold, clamped at 0; one restock alert per product that crossed its threshold.
    const expected = catalog.products.map((p) => ({ product_id: p.id, quantity: stock.get(p.id)! }));
    const shelves = async () =>
      (
        (await (await fetch(store.httpUrl('inventory-intel', '/stock'))).json()) as Array<{
          product_id: number;
          quantity: number;
        }>
      ).map((r) => ({ product_id: r.product_id, quantity: r.quantity }));
    await waitUntil(
      async () => JSON.stringify(await shelves()) === JSON.stringify(expected),
      'the final stock',
      60_000,
    ).catch(() => undefined);
    expect(await shelves()).toEqual(expected);
    const crossed = catalog.products.filter(
      (p) => p.starting_stock >= p.restock_threshold && stock.get(p.id)! < p.restock_threshold,
    );
    await waitUntil(() => alerts().size >= crossed.length, `${crossed.length} restock alerts`, 30_000).catch(
      () => undefined,
    );
    expect([...alerts().keys()].sort((a, b) => a - b)).toEqual(crossed.map((p) => p.id));
    for (const ids of alerts().values()) expect(ids.size).toBe(1);

    // The restarted consumers were handed the killed batch again and knew it.
    const after = new Map<ServiceName, Health>();
    for (const k of killed) {
      const h = await health(k.name);
      after.set(k.name, h);
      expect(h.duplicates ?? 0, `${k.name} recognised the redelivered batch`).toBeGreaterThanOrEqual(k.batch);
      expect(h.deadLettered ?? 0).toBe(0);
    }

    const payments = watcher.on(eventTopic(store.root, 'payment-due')).length;
    const alertCopies = watcher.on(eventTopic(store.root, 'restock-alert')).length - crossed.length;
    process.stdout.write(
      `faults: ${COUNT} departures (${billable.length} billable, ${BACKLOG} queued first, the rest at ${PER_SECOND}/s); ` +
        killed
          .map(
            (k) =>
              `${k.name} killed after batch ${KILL_AFTER_BATCHES} of ${k.batch} messages (${k.publishedAtDeath} published), ` +
              `${after.get(k.name)!.duplicates} duplicates after restart`,
          )
          .join('; ') +
        `; ${payments} payment-due seen (${payments - billable.length} copies, same ids), ${crossed.length} restock alerts ` +
        `(${alertCopies} copies), ${oversold.length} products oversold; published in ${publishedAt - startedAt} ms, ` +
        `all settled in ${Date.now() - startedAt} ms\n`,
    );
  }, 300_000);

  function sold(all: readonly Departure[], productId: number): number {
    return all.reduce((n, d) => n + d.product_ids.filter((id) => id === productId).length, 0);
  }

  function paidDepartures(): number {
    return new Set(watcher.on(eventTopic(store.root, 'payment-due')).map((m) => m.json().departure_event_id)).size;
  }

  /** Each product's distinct restock-alert ids, as the watcher saw them. */
  function alerts(): Map<number, Set<string>> {
    const byItem = new Map<number, Set<string>>();
    for (const m of watcher.on(eventTopic(store.root, 'restock-alert'))) {
      const a = m.json<{ event_id: string; item_id: number }>();
      byItem.set(a.item_id, (byItem.get(a.item_id) ?? new Set()).add(a.event_id));
    }
    return byItem;
  }

  /** How many bills GET /bills lists for each departure, every customer's pages read to the end. */
  async function allBills(): Promise<Map<string, number>> {
    const count = new Map<string, number>();
    for (let customer = 1; customer <= 10; customer++) {
      let after: string | undefined;
      for (let page = 0; page < 100; page++) {
        const query = `/bills?customer_id=${customer}&limit=500${after ? `&after=${after}` : ''}`;
        const body = (await (await fetch(store.httpUrl('fastlane-finale', query))).json()) as {
          bills: Array<{ departure_event_id: string }>;
          next?: string;
        };
        for (const b of body.bills) count.set(b.departure_event_id, (count.get(b.departure_event_id) ?? 0) + 1);
        after = body.next;
        if (after === undefined) break;
      }
    }
    return count;
  }
});
