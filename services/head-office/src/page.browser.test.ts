import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { eventTopic, statusTopic } from '@spectrum-grocers/contract';
import {
  collect,
  holdsIntake,
  hqReplicaEnv,
  launchChromium,
  screenshotPath,
  skipWithoutChromium,
  skipWithoutNats,
  skipWithoutPostgres,
  spawnService,
  startNatsCluster,
  startPostgres,
  waitUntil,
  watchPage,
  type Collector,
  type NatsCluster,
  type PageProblems,
  type Postgres,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';

const chain = 'spectrum-grocers';
/** Each store's payments of today, in cents, and whether one of its services is online. */
const STORES = {
  north: { payments: [1250, 899, 4020], online: true },
  south: { payments: [15_000], online: false },
  east: { payments: [310, 745], online: true },
} as const;
const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

describe.skipIf(skipWithoutNats || skipWithoutPostgres || skipWithoutChromium)(
  "the head office's page in a real browser (Chromium)",
  () => {
    let hq: NatsCluster;
    let db: Postgres;
    let shops: Collector;
    let prices: Collector;
    let replica: ServiceProcess;
    let base: string;
    let browser: Browser;
    let page: Page;
    let problems: PageProblems;

    beforeAll(async () => {
      [hq, db] = await Promise.all([startNatsCluster(), startPostgres()]);
      const servers = hq.nodes.map((n) => ({ host: '127.0.0.1', port: n.mqttPort }));
      prices = await collect(hq.mqttUrls[2]!, `${chain}/+/price-change`, { protocolVersion: 4, servers });
      shops = await collect(hq.mqttUrls[1]!, [], { protocolVersion: 4, servers });
      replica = spawnService('head-office', {
        ...hqReplicaEnv(hq, await db.createDatabase('hq'), chain),
        REPLICA_ID: 'page',
      });
      const port = await replica.httpPort(30_000);
      base = `http://127.0.0.1:${port}`;
      await waitUntil(() => holdsIntake(port), 'the intake, subscribed');
      for (const [store, { payments, online }] of Object.entries(STORES)) {
        await shops.publish(
          statusTopic({ chain, store }, 'fastlane-finale'),
          { service: 'fastlane-finale', status: online ? 'online' : 'offline', timestamp: new Date().toISOString() },
          { retain: true },
        );
        for (const [i, cents] of payments.entries()) {
          await shops.publish(eventTopic({ chain, store }, 'payment-due'), {
            event_id: `pay-${store}-${i}`,
            timestamp: new Date().toISOString(),
            customer_id: i + 1,
            amount: cents / 100,
            amount_cents: cents,
          });
        }
      }
      await shops.publish(eventTopic({ chain, store: 'north' }, 'restock-alert'), {
        event_id: 'alert-north-1',
        timestamp: new Date().toISOString(),
        item_id: 3,
        quantity: 7,
        threshold: 10,
      });
      await shops.publish(eventTopic({ chain, store: 'north' }, 'stock-delivered'), {
        event_id: 'delivered-north-1',
        timestamp: new Date().toISOString(),
        delivery_id: 'order-north-1',
        product_id: 3,
        quantity: 43,
      });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(10_000);
      problems = await watchPage(page);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await replica?.stop('SIGKILL');
      await prices?.close();
      await shops?.close();
      await hq?.dispose();
      await db?.dispose();
    });

    it('shows the three stores with their totals and sends a price change from its form, with no error on the page', async () => {
      const loaded = await page.goto(`${base}/`);
      expect(loaded!.headers()).toMatchObject({
        'content-security-policy': expect.stringMatching(/script-src 'self'; ?style-src 'self'/) as string,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      });
      for (const [store, { payments, online }] of Object.entries(STORES)) {
        const today = money(payments.reduce((a, b) => a + b, 0));
        const card = page.locator(`.store[data-store="${store}"]`);
        // The page refreshes itself: the figures arrive as the ledger takes the payments.
        await card.locator('.today-total', { hasText: today }).waitFor({ timeout: 20_000 });
        expect(await card.locator('.payments').textContent()).toBe(String(payments.length));
        expect(await card.locator('.store-head .pill').textContent()).toBe(online ? 'online' : 'offline');
        expect(await card.locator('table.days tr.today').textContent()).toContain(today);
      }
      const north = page.locator('.store[data-store="north"]');
      await north.locator('table.stock td.low', { hasText: '7' }).waitFor();
      await north.locator('table.deliveries td', { hasText: '43' }).first().waitFor();
      expect(await page.locator('.store').count()).toBe(3);
      expect(await page.locator('#badge-online').textContent()).toBe('2 of 3 stores online');

      await page.locator('#price-product').fill('3');
      await page.locator('#price-amount').fill('1.99');
      await page.locator('#price-store').selectOption('north');
      await page.locator('#price-send').click();
      await page.locator('#price-result.ok').waitFor();
      const [sent] = await prices.waitFor(eventTopic({ chain, store: 'north' }, 'price-change'), 1);
      expect(sent!.json()).toMatchObject({ product_id: 3, price_cents: 199 });
      expect(await page.locator('#price-result').textContent()).toContain(sent!.json<{ event_id: string }>().event_id);
      await page.locator('#prices tr', { hasText: '$1.99' }).waitFor();

      await page.screenshot({ path: screenshotPath('head-office'), animations: 'disabled', fullPage: true });
      expect(problems.violations).toEqual([]);
      expect(problems.errors).toEqual([]);

      // A refusal is said on the page; the browser's own notice of the 404 is the only error logged.
      await page.locator('#price-product').fill('99999');
      await page.locator('#price-send').click();
      await page.locator('#price-result.error', { hasText: 'product_id: 99999 is not in the catalog' }).waitFor();
      expect(problems.errors).toEqual([expect.stringMatching(/status of 404/) as string]);
    }, 60_000);
  },
);
