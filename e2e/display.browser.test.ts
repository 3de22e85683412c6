import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  launchChromium,
  openStoreInBrowser,
  screenshotPath,
  skipWithoutChromium,
  skipWithoutMosquitto,
  spawnService,
  startMosquitto,
  tempDir,
  TEST_SERVICE_ENV,
  type LaunchedStore,
  type PageProblems,
  type StoreInBrowser,
} from '@spectrum-grocers/testkit';
import { postJson } from './harness.js';

describe.skipIf(skipWithoutChromium)('the entrance display in a real browser (Chromium)', () => {
  let fixture: StoreInBrowser | undefined;
  let store: LaunchedStore;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    fixture = await openStoreInBrowser({ width: 1280, height: 720 });
    ({ store, page, problems } = fixture);
  }, 60_000);
  afterAll(() => fixture?.close());

  it('shows "Welcome, <name>" within a second of a scan at the entrance', async () => {
    const loaded = await page.goto(await store.url('hello-helper', '/'));
    await page.locator('body:not(.down)').waitFor({ timeout: 15_000 }); // stream and broker up
    expect(await page.locator('#message').textContent()).toBe('Welcome to Fresh Frontier!');

    const scannedAt = Date.now();
    const scan = await postJson(await store.url('gateway-guardian', '/scans'), { customer_id: 1 });
    expect(scan.status).toBe(202);
    await page.getByText('Welcome, Dave').waitFor({ timeout: 1_000 });
    const shownMs = Date.now() - scannedAt;
    await page.screenshot({ path: screenshotPath('display-welcome'), animations: 'disabled' });
    process.stdout.write(`display: "Welcome, Dave" shown ${shownMs} ms after the scan\n`);
    expect(shownMs).toBeLessThan(1_000);
    expect(loaded!.headers()).toMatchObject({
      'content-security-policy': expect.stringMatching(/script-src 'self'; ?style-src 'self'/) as string,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
    // Styled and scripted under that policy, with nothing refused.
    expect(await page.evaluate<string>("getComputedStyle(document.querySelector('#message')).fontWeight")).toBe('700');
    expect(problems.violations).toEqual([]);
    expect(problems.errors).toEqual([]);
  });

  it("has the store's icon, linked from the page and served as SVG", async () => {
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    const res = await fetch(new URL(href!, await store.url('hello-helper', '/')));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await res.text()).toMatch(/^<svg /);
  });

  it('says plainly when the event stream is down', async () => {
    await store.stop();
    const banner = page.locator('#banner');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await banner.textContent()).toMatch(/not connected|down/i);
    await page.screenshot({ path: screenshotPath('display-down'), animations: 'disabled' });
  });
});

describe.skipIf(skipWithoutChromium || skipWithoutMosquitto)('the entrance display when the broker goes away', () => {
  it('keeps the page up and says the event stream is down, then clears the banner when the broker is back', async () => {
    const broker = await startMosquitto();
    const data = tempDir('ff-display-broker-');
    const hello = spawnService('hello-helper', { MQTT_URL: broker.url, DATA_DIR: data.path, ...TEST_SERVICE_ENV });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${await hello.httpPort()}/`);
      await page.locator('body:not(.down)').waitFor({ timeout: 15_000 });
      await broker.stop('SIGTERM');
      await page.locator('body.down').waitFor({ timeout: 10_000 });
      expect(await page.locator('#banner').textContent()).toMatch(/event stream is down/);
      await broker.restart();
      await page.locator('body:not(.down)').waitFor({ timeout: 15_000 });
    } finally {
      await browser.close();
      await hello.stop('SIGTERM');
      await broker.dispose();
      data.remove();
    }
  }, 60_000);
});
