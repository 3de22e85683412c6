import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quietLogger, startAedes, tempDir, type EmbeddedTestBroker } from '@spectrum-grocers/testkit';
import { loadConfig } from './config.js';
import { gateService, GateEnv } from './gate.js';
import { startService, type RunningService } from './service.js';
import { entryPackageVersion } from './version.js';

interface Operation {
  summary?: string;
  requestBody?: { content: Record<string, { schema: { required?: string[] } }> };
  responses: Record<string, { description: string; content?: Record<string, unknown> }>;
}
type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
};

describe("a service's OpenAPI document", () => {
  let broker: EmbeddedTestBroker;
  let gate: RunningService;
  let data: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    broker = await startAedes();
    data = tempDir();
    const env = { MQTT_URL: broker.url, STORE: `openapi-${process.pid}`, DATA_DIR: data.path, HTTP_HOST: '127.0.0.1' };
    const config = loadConfig('gateexit-guardian', {
      env: { ...env, HTTP_PORT: '0', SIMULATE: 'false' },
      options: GateEnv,
      dotenv: false,
    });
    const spec = gateService({
      service: 'gateexit-guardian',
      event: 'customer-departure',
      env: GateEnv,
      generate: (now) => ({ timestamp: now.toISOString(), customer_id: 1, product_ids: [] }),
    });
    gate = await startService({ ...spec, version: '4.5.6' }, config, quietLogger());
  });
  afterEach(async () => {
    await gate.stop();
    await broker.close();
    data.remove();
  });

  const document = async () =>
    (await (await fetch(`http://127.0.0.1:${gate.http.port}/openapi.json`)).json()) as Document;

  it('is a valid OpenAPI 3.1 document, titled by the service and versioned by its package', async () => {
    const doc = await document();
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'gateexit-guardian', version: '4.5.6' });
  });

  it('documents POST /scans from the event schema: its body, 202, 409 and every refusal', async () => {
    const scans = (await document()).paths['/scans']!.post!;
    const body = scans.requestBody!.content['application/json']!.schema;
    // The departure's schema, with the timestamp the gate fills left optional.
    expect(body.required?.sort()).toEqual(['customer_id', 'product_ids']);
    expect(Object.keys(scans.responses).sort()).toEqual(['202', '400', '409', '413', '415']);
    for (const response of Object.values(scans.responses)) expect(response.description).not.toBe('');
  });

  it('documents /healthz, /metrics (as text) and itself beside the routes of the service', async () => {
    const { paths } = await document();
    expect(Object.keys(paths).sort()).toEqual(['/healthz', '/metrics', '/openapi.json', '/scans']);
    expect(Object.keys(paths['/healthz']!.get!.responses).sort()).toEqual(['200', '503']);
    expect(Object.keys(paths['/metrics']!.get!.responses['200']!.content!)).toEqual(['text/plain']);
    const metrics = await fetch(`http://127.0.0.1:${gate.http.port}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toMatch(/^# HELP /m);
  });
});

describe('the version of the running package', () => {
  it("is read from the package.json above the entry script, the store's packages only", () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir.path, 'svc', 'dist'), { recursive: true });
      writeFileSync(
        join(dir.path, 'svc', 'package.json'),
        JSON.stringify({ name: '@spectrum-grocers/x', version: '2.3.4' }),
      );
      expect(entryPackageVersion(join(dir.path, 'svc', 'dist', 'main.js'))).toBe('2.3.4');
      writeFileSync(join(dir.path, 'svc', 'package.json'), JSON.stringify({ name: 'vitest', version: '9.9.9' }));
      expect(entryPackageVersion(join(dir.path, 'svc', 'dist', 'main.js'))).toBe('0.0.0');
      expect(entryPackageVersion(undefined)).toBe('0.0.0');
    } finally {
      dir.remove();
    }
  });
});
