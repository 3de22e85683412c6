import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  gateService,
  loadConfig,
  loadProductCatalog,
  startService,
  type RunningService,
} from '@spectrum-grocers/runtime';
import { quietLogger, startAedes, tempDir, type EmbeddedTestBroker } from '@spectrum-grocers/testkit';
import { exitGate, exitGateEnv } from './exit-gate.js';

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
  let service: RunningService;
  let data: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    broker = await startAedes();
    data = tempDir();
    const config = loadConfig(gate.service, { options: gate.env, env: env(data.path, broker.url), dotenv: false });
    // As runService starts it, less the simulated sensor (started only by runService).
    service = await startService(gateService(gate), config, quietLogger());
    await service.bus.ready;
  });
  afterEach(async () => {
    await service.stop();
    await broker.close();
    data.remove();
  });

  const post = (body: unknown) =>
    fetch(`http://127.0.0.1:${service.http.port}/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers 400 naming the unknown product ids, not 202, for a bag the catalog cannot bill', async () => {
    const res = await post({ customer_id: 2, product_ids: [1, 101, 7, 5000, 101] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/not in the product catalog: 101, 5000$/);
    const health = (await (await fetch(`http://127.0.0.1:${service.http.port}/healthz`)).json()) as object;
    expect(health).toMatchObject({ outboxPending: 0 });
  });

  it('takes a bag of catalog products', async () => {
    const res = await post({ customer_id: 2, product_ids: [1, 100, 1] });
    expect(res.status).toBe(202);
  });
});

describe('gateexit-guardian: configuration', () => {
  const load = (extra: Record<string, string>) =>
    loadConfig(gate.service, {
      options: exitGateEnv(catalog),
      env: env('/tmp/unused', 'mqtt://127.0.0.1:1', extra),
      dotenv: false,
    });

  it('refuses at start a PRODUCT_ID_MAX beyond the catalog, which would simulate bags that can never be billed', () => {
    expect(() => load({ PRODUCT_ID_MAX: '150' })).toThrow(/PRODUCT_ID_MAX: must not exceed 100/);
  });

  it('simulates products of the whole catalog by default, and only those', () => {
    const options = load({}).options;
    expect(options.PRODUCT_ID_MAX).toBe(100);
    const ids = Array.from({ length: 500 }, () => gate.generate(new Date(), options).product_ids).flat();
    expect(ids.every((id) => catalog.get(id) !== undefined)).toBe(true);
  });
});
