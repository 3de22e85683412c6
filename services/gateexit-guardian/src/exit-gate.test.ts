import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, loadProductCatalog, startService, type RunningService } from '@spectrum-grocers/runtime';
import { quietLogger, startAedes, tempDir, type EmbeddedTestBroker } from '@spectrum-grocers/testkit';
import { exitGate, exitGateService, ExitGateEnv, productIdMax } from './exit-gate.js';

const catalog = loadProductCatalog();
const gate = exitGate(catalog);
const env = (data: string, url: string, extra: Record<string, string> = {}) => ({
  MQTT_URL: url,
  STORE: `exit-gate-${process.pid}`,
  DATA_DIR: data,
  HTTP_HOST: '127.0.0.1',
  HTTP_PORT: '0',
  ...extra,
});

describe('gateexit-guardian: POST /scans', () => {
  let broker: EmbeddedTestBroker;
  let service: RunningService | undefined;
  let data: ReturnType<typeof tempDir>;

  /** As runService starts it, less the simulated sensor (started only by runService). */
  async function start(extra: Record<string, string> = {}): Promise<void> {
    const config = loadConfig(gate.service, {
      options: ExitGateEnv,
      env: env(data.path, broker.url, { SIMULATE: 'false', ...extra }),
      dotenv: false,
    });
    service = await startService(exitGateService(), config, quietLogger());
    await service.bus.ready;
  }

  beforeEach(async () => {
    broker = await startAedes();
    data = tempDir();
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await broker.close();
    data.remove();
  });

  const post = (body: unknown) =>
    fetch(`http://127.0.0.1:${service!.http.port}/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers 400 naming the unknown product ids, not 202, for a bag the catalog cannot bill', async () => {
    await start();
    const res = await post({ customer_id: 2, product_ids: [1, 101, 7, 5000, 101] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/not in the product catalog: 101, 5000$/);
    const health = (await (await fetch(`http://127.0.0.1:${service!.http.port}/healthz`)).json()) as object;
    expect(health).toMatchObject({ outboxPending: 0 });
  });

  it('takes a bag of catalog products', async () => {
    await start();
    const res = await post({ customer_id: 2, product_ids: [1, 100, 1] });
    expect(res.status).toBe(202);
  });

  it("checks bags against CATALOG_FILE's catalog, not the contract's", async () => {
    const file = join(data.path, 'catalog.json');
    const product = (id: number) => ({ id, name: `p${id}`, price_cents: 100, starting_stock: 5, restock_threshold: 1 });
    writeFileSync(file, JSON.stringify([product(1), product(150)]));
    await start({ CATALOG_FILE: file });
    expect((await post({ customer_id: 2, product_ids: [150, 1] })).status).toBe(202);
    const refused = await post({ customer_id: 2, product_ids: [2] });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toMatch(/not in the product catalog: 2$/);
  });
});

describe('gateexit-guardian: configuration', () => {
  const load = (extra: Record<string, string>) =>
    loadConfig(gate.service, {
      options: ExitGateEnv,
      env: env('/tmp/unused', 'mqtt://127.0.0.1:1', extra),
      dotenv: false,
    });

  it('refuses at start a PRODUCT_ID_MAX beyond the catalog, which would simulate bags that can never be billed', () => {
    expect(() => exitGate(catalog, load({ PRODUCT_ID_MAX: '150' }).options)).toThrow(
      /PRODUCT_ID_MAX: must not exceed 100/,
    );
  });

  it('simulates products of the whole catalog by default, and only those', () => {
    const options = load({}).options;
    expect(productIdMax(catalog, options)).toBe(100);
    const ids = Array.from({ length: 500 }, () => gate.generate(new Date(), options).product_ids).flat();
    expect(ids.every((id) => catalog.get(id) !== undefined)).toBe(true);
  });
});
