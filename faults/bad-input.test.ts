import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterTopic, eventTopic, storeFilter } from '@spectrum-grocers/contract';
import { loadProductCatalog } from '@spectrum-grocers/runtime';
import { collect, waitUntil, type Collector } from '@spectrum-grocers/testkit';
import { startFaultStore, type FaultStore } from './store.js';

const ts = '"timestamp":"2026-11-22T10:00:00Z"';
const BAD: Array<[string, Buffer]> = [
  ['invalid JSON', Buffer.from('{"customer_id": 1, "product_ids": [1,')],
  ['a string id', Buffer.from(`{${ts},"customer_id":"3","product_ids":[1]}`)],
  ['a negative id', Buffer.from(`{${ts},"customer_id":-3,"product_ids":[1]}`)],
  ['NaN', Buffer.from(`{${ts},"customer_id":NaN,"product_ids":[1]}`)],
  ['a huge id', Buffer.from(`{${ts},"customer_id":1e300,"product_ids":[1]}`)],
  ['a fractional product id', Buffer.from(`{${ts},"customer_id":3,"product_ids":[1.5]}`)],
  ['a __proto__ basket', Buffer.from(`{${ts},"customer_id":3,"product_ids":{"__proto__":[1]}}`)],
  ['an unknown product', Buffer.from(`{${ts},"customer_id":3,"product_ids":[4242]}`)],
  ['a 100,000-item basket', Buffer.from(`{${ts},"customer_id":3,"product_ids":[${Array(100_000).fill(1).join(',')}]}`)],
  ['an empty payload', Buffer.alloc(0)],
  ['a 1 MB payload', Buffer.from(`{${ts},"customer_id":3,"product_ids":[1],"pad":"${'x'.repeat(1024 * 1024)}"}`)],
  ['non-UTF-8 bytes', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
];

describe('bad input over the wire', () => {
  let store: FaultStore;
  let watcher: Collector;

  beforeAll(async () => {
    store = await startFaultStore();
    await store.start('inventory-intel');
    await store.start('fastlane-finale');
    watcher = await collect(store.broker.url, storeFilter(store.root), store.watcher());
  }, 60_000);
  afterAll(async () => {
    await watcher?.close();
    await store?.dispose();
  });

  it('dead-letters every bad payload with a reason, changes nothing, and keeps billing valid ones', async () => {
    const stock = async () =>
      (await (await fetch(store.httpUrl('inventory-intel', '/stock'))).json()) as Array<{
        product_id: number;
        quantity: number;
      }>;
    const before = await stock();
    const gate = await mqtt.connectAsync(store.broker.url, {
      ...store.account('gateexit-guardian'),
      reconnectPeriod: 0,
    });
    const topic = eventTopic(store.root, 'customer-departure');
    for (const [, payload] of BAD) await gate.publishAsync(topic, payload, { qos: 1 });
    await gate.publishAsync(topic, `{${ts},"customer_id":5,"product_ids":[2],"event_id":"valid-after-bad"}`, {
      qos: 1,
    });
    await gate.endAsync();

    for (const service of ['inventory-intel', 'fastlane-finale'] as const) {
      const letters = await watcher.waitFor(deadLetterTopic(store.root, service), BAD.length, 30_000);
      const bodies = letters.map((m) =>
        m.json<{ reason: string; topic: string; payload_bytes: number; truncated: boolean }>(),
      );
      expect(bodies.map((b) => b.payload_bytes)).toEqual(BAD.map(([, p]) => p.length));
      for (const b of bodies) {
        expect(b.reason.length).toBeGreaterThan(0);
        expect(b.topic).toBe(topic);
      }
      const reasonFor = (label: string) => bodies[BAD.findIndex(([l]) => l === label)]!;
      expect(reasonFor('a 1 MB payload')).toMatchObject({
        truncated: true,
        reason: expect.stringMatching(/MAX_PAYLOAD_BYTES/),
      });
      expect(reasonFor('a 100,000-item basket').reason).toMatch(/product_ids/);
      expect(reasonFor('an unknown product').reason).toMatch(/UNKNOWN_PRODUCT.*4242/);
    }
    const payments = await waitUntil(() => {
      const p = watcher.on(eventTopic(store.root, 'payment-due'));
      return p.length > 0 ? p : undefined;
    }, 'the valid departure to be billed');
    expect(payments.map((m) => m.json().departure_event_id)).toEqual(['valid-after-bad']);
    await waitUntil(
      async () => (await stock()).find((r) => r.product_id === 2)!.quantity < before[1]!.quantity,
      'stock',
    );
    const after = await stock();
    const changed = after
      .filter((r, i) => r.quantity !== before[i]!.quantity)
      .map((r) => [r.product_id, before[r.product_id - 1]!.quantity - r.quantity]);
    expect(changed).toEqual([[2, 1]]);
    for (const s of ['inventory-intel', 'fastlane-finale'] as const) {
      expect((await fetch(store.httpUrl(s, '/healthz'))).status).toBe(200);
      expect(store.proc(s).output()).not.toMatch(/unhandled|uncaught/i);
    }
    expect(loadProductCatalog().get(2)).toBeDefined();
    process.stdout.write(
      `faults: ${BAD.length} kinds of bad input over the wire: all dead-lettered by both consumers, no state change, the next departure billed\n`,
    );
  }, 120_000);
});
