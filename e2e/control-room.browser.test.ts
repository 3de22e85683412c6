import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { parse as parseEnv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { eventTopic, SERVICES } from '@spectrum-grocers/contract';
import { loadProductCatalog, SESSION_FILE } from '@spectrum-grocers/runtime';
import { passwordVariable } from '@spectrum-grocers/broker';
import {
  openStoreInBrowser,
  screenshotPath,
  skipWithoutChromium,
  waitUntil,
  type LaunchedStore,
  type PageProblems,
  type StoreInBrowser,
} from '@spectrum-grocers/testkit';
import { getJson, postJson } from './harness.js';

interface TraceNode {
  event_id: string;
  event: string;
  asked: boolean;
  effects: TraceNode[];
}

describe.skipIf(skipWithoutChromium)('the control room in a real browser (Chromium), on `pnpm start`', () => {
  let fixture: StoreInBrowser | undefined;
  let store: LaunchedStore;
  let page: Page;
  const root = { chain: 'spectrum-grocers', store: 'fresh-frontier' };
  const product = loadProductCatalog().get(3)!; // 50 in stock, threshold 10
  let problems: PageProblems;

  beforeAll(async () => {
    fixture = await openStoreInBrowser({ width: 1400, height: 1000 });
    ({ store, page, problems } = fixture);
  }, 60_000);
  afterAll(() => fixture?.close());

  it('shows who is online, event rates, payments, dead letters and low stock, live', async () => {
    const loaded = await page.goto(await store.url('control-room', '/'));
    await waitUntil(
      async () => (await page.locator('#services .pill.online').count()) === SERVICES.length,
      'all five services online on the page',
      20_000,
    );
    expect(await page.locator('body.down').count()).toBe(0);

    // A departure that takes the eggs under their threshold, and one broken message.
    const taken = product.starting_stock - product.restock_threshold + 1;
    const scan = await postJson(await store.url('gateexit-guardian', '/scans'), {
      customer_id: 4,
      product_ids: Array<number>(taken).fill(product.id),
    });
    expect(scan.status).toBe(202);
    const session = parseEnv(readFileSync(join(fixture!.dataDir, SESSION_FILE), 'utf8'));
    const gate = await mqtt.connectAsync(session.MQTT_URL!, {
      username: 'gateexit-guardian',
      password: session[passwordVariable('gateexit-guardian')],
      reconnectPeriod: 0,
    });
    await gate.publishAsync(eventTopic(root, 'customer-departure'), '{"customer_id": 4, "product_ids": [1,', {
      qos: 1,
    });
    await gate.endAsync();

    const amount = `$${((taken * product.price_cents) / 100).toFixed(2)}`;
    await page.locator('#payments td', { hasText: amount }).waitFor({ timeout: 5_000 });
    await page.locator(`#stock .item.low[data-product="${product.id}"]`).waitFor({ timeout: 5_000 });
    await waitUntil(async () => (await page.locator('#dead').textContent()) === '2', 'two dead letters', 5_000);
    expect(await page.locator('#rates').textContent()).toContain('customer-departure');
    expect(await page.locator(`#stock .item[data-product="${product.id}"]`).textContent()).toContain(
      String(product.restock_threshold - 1),
    );
    await page.screenshot({ path: screenshotPath('control-room'), animations: 'disabled' });
    expect(loaded!.headers()).toMatchObject({
      'content-security-policy': expect.stringMatching(/script-src 'self'; style-src 'self'/) as string,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    expect(await page.evaluate<string>("getComputedStyle(document.querySelector('header')).display")).toBe('flex');
    expect(problems.violations).toEqual([]);
    expect(problems.errors).toEqual([]);

    // Traceability: the departure, its payment and its restock alert, from any of them.
    const departureId = scan.body.event_id as string;
    const trace = await getJson<TraceNode>(await store.url('control-room', `/api/trace?event_id=${departureId}`));
    expect(trace).toMatchObject({ event_id: departureId, event: 'customer-departure', asked: true });
    expect(trace.effects.map((e) => e.event).sort()).toEqual(['payment-due', 'restock-alert']);
    const payment = trace.effects.find((e) => e.event === 'payment-due')!;
    const fromPayment = await getJson<TraceNode>(
      await store.url('control-room', `/api/trace?event_id=${payment.event_id}`),
    );
    expect(fromPayment.event_id).toBe(departureId);
    expect(fromPayment.effects.find((e) => e.asked)?.event_id).toBe(payment.event_id);
    expect((await fetch(await store.url('control-room', '/api/trace?event_id=unknown-1'))).status).toBe(404);
    const missing = await fetch(await store.url('control-room', '/api/trace'));
    expect(missing.status).toBe(400);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the welcome chain is traced too: arrival -> display-welcome', async () => {
    const scan = await postJson(await store.url('gateway-guardian', '/scans'), { customer_id: 2 });
    const trace = await waitUntil(async () => {
      const res = await fetch(await store.url('control-room', `/api/trace?event_id=${scan.body.event_id as string}`));
      const t = res.ok ? ((await res.json()) as TraceNode) : undefined;
      return t && t.effects.length > 0 ? t : undefined;
    }, 'the arrival and its welcome in the control room');
    expect(trace.effects.map((e) => e.event)).toEqual(['display-welcome']);
  });

  it('keeps an arrival and a departure sharing an event_id apart, each traced by its kind', async () => {
    const id = `shared-${Date.now()}`;
    const arrived = await postJson(await store.url('gateway-guardian', '/scans'), { customer_id: 3, event_id: id });
    const left = await postJson(await store.url('gateexit-guardian', '/scans'), {
      customer_id: 3,
      product_ids: [1],
      event_id: id,
    });
    expect([arrived.status, left.status]).toEqual([202, 202]);
    const traceOf = async (event: string) => {
      const res = await fetch(await store.url('control-room', `/api/trace?event_id=${id}&event=${event}`));
      const t = res.ok ? ((await res.json()) as TraceNode) : undefined;
      return t && t.effects.length > 0 ? t : undefined;
    };
    const departure = await waitUntil(() => traceOf('customer-departure'), 'the departure and its payment');
    const arrival = await waitUntil(() => traceOf('customer-arrival'), 'the arrival and its welcome');
    expect(departure.effects.map((e) => e.event)).toContain('payment-due');
    expect(departure.effects.map((e) => e.event)).not.toContain('display-welcome');
    expect(arrival.effects.map((e) => e.event)).toEqual(['display-welcome']);
    const ambiguous = await fetch(await store.url('control-room', `/api/trace?event_id=${id}`));
    expect(ambiguous.status).toBe(409);
  });
});
