import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { parse as parseEnv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Response } from 'playwright-core';
import { deadLetterTopic, eventTopic, SERVICES } from '@spectrum-grocers/contract';
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

/** The parts of the control room's state these tests read. */
interface State {
  series: { from: number; counts: number[] };
}

/** How long the test store's supplier takes to answer a restock alert: long enough to see a shelf empty. */
const RESTOCK_DELAY_S = 12;

describe.skipIf(skipWithoutChromium)('the control room in a real browser (Chromium), on `pnpm start`', () => {
  let fixture: StoreInBrowser | undefined;
  let store: LaunchedStore;
  let page: Page;
  const root = { chain: 'spectrum-grocers', store: 'fresh-frontier' };
  const product = loadProductCatalog().get(3)!; // 50 in stock, threshold 10
  let problems: PageProblems;
  let loaded: Response | null;

  beforeAll(async () => {
    fixture = await openStoreInBrowser({ width: 1400, height: 1000 }, { RESTOCK_DELAY_S: String(RESTOCK_DELAY_S) });
    ({ store, page, problems } = fixture);
    page.setDefaultTimeout(10_000);
    loaded = await page.goto(await store.url('control-room', '/'));
    // Every service subscribed before any scan: a departure published before then reaches no one.
    await waitUntil(
      async () => (await page.locator('#services .pill.online').count()) === SERVICES.length,
      'all five services online on the page',
      20_000,
    );
  }, 60_000);
  afterAll(() => fixture?.close());

  it('shows who is online, event rates, payments, dead letters and low stock, live', async () => {
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
    expect(loaded!.headers()).toMatchObject({
      'content-security-policy': expect.stringMatching(/script-src 'self'; ?style-src 'self'/) as string,
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

  const depart = async (customer_id: number, product_ids: number[]) => {
    const scan = await postJson(await store.url('gateexit-guardian', '/scans'), { customer_id, product_ids });
    expect(scan.status).toBe(202);
    return scan.body.event_id as string;
  };
  /** An arrival, once its welcome is in the control room. */
  const arrive = async (customer_id: number) => {
    const scan = await postJson(await store.url('gateway-guardian', '/scans'), { customer_id });
    expect(scan.status).toBe(202);
    await waitUntil(async () => {
      const res = await fetch(await store.url('control-room', `/api/trace?event_id=${scan.body.event_id as string}`));
      return res.ok && ((await res.json()) as TraceNode).effects.length > 0;
    }, `the welcome of customer ${customer_id} in the control room`);
  };
  const everyOne = (id: number) => Array<number>(loadProductCatalog().get(id)!.starting_stock).fill(id);
  const state = async () => getJson<State>(await store.url('control-room', '/api/state'));

  it('names customers by the name their welcome gave, in payments and traces, and the others "customer <id>"', async () => {
    await arrive(5); // hello-helper greets customer 5 as Eve
    await depart(5, [1]);
    const eve = page.locator('#payments tr.traced', { hasText: 'Eve' });
    await eve.waitFor({ timeout: 5_000 });
    // Customer 10 was never welcomed here: the page has no name for them.
    await depart(10, [2]);
    await page.locator('#payments tr', { hasText: 'customer 10' }).waitFor({ timeout: 5_000 });
    expect(await page.locator('#payments tr', { hasText: 'Judy' }).count()).toBe(0);
    await eve.first().click();
    await page.locator('#trace li.asked', { hasText: 'Eve pays' }).waitFor({ timeout: 5_000 });
    expect(await page.locator('#trace .node').first().textContent()).toMatch(/departure.*Eve left with 1 item\b/);
    await page.locator('#trace-close').click();
    expect(await page.locator('#trace').isHidden()).toBe(true);
  });

  it('shows what is out of stock apart from what is low', async () => {
    const parmesan = loadProductCatalog().get(7)!;
    const butter = loadProductCatalog().get(4)!;
    const underThreshold = Array<number>(butter.starting_stock - butter.restock_threshold + 1).fill(butter.id);
    await depart(6, [...everyOne(parmesan.id), ...underThreshold]);
    await page.locator(`#out .item.out[data-product="${parmesan.id}"]`).waitFor({ timeout: 5_000 });
    expect(await page.locator(`#stock .item.out[data-product="${parmesan.id}"]`).textContent()).toBe(
      `${parmesan.name}0`,
    );
    expect(await page.locator(`#stock .item.low[data-product="${butter.id}"]`).count()).toBe(1);
    expect(await page.locator(`#out .item[data-product="${butter.id}"]`).count()).toBe(0);
    expect(await page.locator('#out-count').textContent()).toBe('1');
    expect(await page.locator('#badge-out').textContent()).toBe('1 out of stock');
    expect(await page.locator('#badge-low').textContent()).toMatch(/^[1-9]\d* low$/);
  });

  it('lists the latest restock alerts and the deliveries that answer them; each opens its trace', async () => {
    const cheese = loadProductCatalog().get(9)!; // cream cheese: 80 in stock, threshold 16
    await depart(8, Array<number>(cheese.starting_stock - cheese.restock_threshold + 1).fill(cheese.id));
    const alert = page.locator('#alerts tr.traced', { hasText: cheese.name }).first();
    await alert.waitFor({ timeout: 5_000 });
    // The supplier answers within RESTOCK_DELAY_S.
    await page
      .locator('#deliveries tr.traced', { hasText: cheese.name })
      .first()
      .waitFor({ timeout: (RESTOCK_DELAY_S + 8) * 1000 });
    await alert.locator('.pill.delivered').waitFor({ timeout: 2_000 });
    await alert.click();
    await page.locator('#trace li.asked > .node[data-event="restock-alert"]').waitFor({ timeout: 5_000 });
    const kinds = await page.locator('#trace .node .kind').allTextContents();
    expect(kinds).toEqual(expect.arrayContaining(['departure', 'payment', 'restock alert', 'delivery']));
    expect(await page.locator('#trace .node[data-event="stock-delivered"]').textContent()).toContain(cheese.name);
    await page.screenshot({ path: screenshotPath('control-room-trace'), animations: 'disabled' });
    await page.keyboard.press('Escape');
    await page.locator('#deliveries tr.traced', { hasText: cheese.name }).first().click();
    await page.locator('#trace li.asked > .node[data-event="stock-delivered"]').waitFor({ timeout: 5_000 });
    await page.keyboard.press('Escape');
    expect(await page.locator('#trace').isHidden()).toBe(true);
  }, 60_000);

  it('lists the latest dead letters with their reasons, as text', async () => {
    // A letter as anyone with the gate's account could publish it: markup in it stays text.
    const session = parseEnv(readFileSync(join(fixture!.dataDir, SESSION_FILE), 'utf8'));
    const gate = await mqtt.connectAsync(session.MQTT_URL!, {
      username: 'gateexit-guardian',
      password: session[passwordVariable('gateexit-guardian')],
      reconnectPeriod: 0,
    });
    const reason = '<img src=x id=injected> refused';
    const letter = {
      event_id: `dl-${Date.now()}`,
      timestamp: new Date().toISOString(),
      service: 'gateexit-guardian',
      reason,
    };
    await gate.publishAsync(deadLetterTopic(root, 'gateexit-guardian'), JSON.stringify(letter), { qos: 1 });
    await gate.endAsync();
    const row = page.locator('#dead-letters tr', { hasText: reason });
    await row.waitFor({ timeout: 5_000 });
    expect(await row.locator('td').nth(1).textContent()).toBe('gateexit-guardian');
    expect(await page.locator('#injected').count()).toBe(0);
  });

  it('draws the events per second of the last 15 minutes with uPlot, a point a second', async () => {
    await page.locator('#chart canvas').waitFor({ timeout: 5_000 });
    const points = async () => Number(await page.locator('#chart').getAttribute('data-points'));
    const before = await points();
    await waitUntil(async () => (await points()) > before, 'another second on the chart', 5_000);
    const { series } = await state();
    expect(series.counts.length).toBeLessThanOrEqual(15 * 60);
    expect(series.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(await page.evaluate('typeof uPlot')).toBe('function');
  });

  it('has an icon, linked from the page and served as SVG', async () => {
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    const res = await fetch(new URL(href!, await store.url('control-room', '/')));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await res.text()).toMatch(/^<svg /);
  });

  it('shows every section filled, with no policy violation or error on the page (the screenshot)', async () => {
    const mozzarella = loadProductCatalog().get(8)!;
    await arrive(1);
    await depart(1, [
      12,
      40,
      40,
      45,
      ...Array<number>(mozzarella.starting_stock - mozzarella.restock_threshold + 2).fill(8),
    ]);
    await arrive(2);
    await depart(2, everyOne(27)); // olive oil: out of stock until its delivery
    await page.locator('#out .item.out[data-product="27"]').waitFor({ timeout: 5_000 });
    await page.locator(`#stock .item.low[data-product="${mozzarella.id}"]`).waitFor({ timeout: 5_000 });
    await page.locator('#payments tr', { hasText: 'Alice' }).waitFor({ timeout: 5_000 });
    await page.mouse.click(1, 1); // no row focused
    await page.screenshot({ path: screenshotPath('control-room'), animations: 'disabled', fullPage: true });
    expect(problems.violations).toEqual([]);
    expect(problems.errors).toEqual([]);
  });
});
