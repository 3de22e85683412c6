import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_ROOM, PROCESSES, UPLINK, type ProcessName } from '@spectrum-grocers/contract';
import {
  skipWithoutMosquitto,
  spawnService,
  startAedes,
  startMosquitto,
  tempDir,
  TEST_SERVICE_ENV,
  waitUntil,
  type EmbeddedTestBroker,
  type Mosquitto,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';
import { startStore, type RunningStore } from './harness.js';

interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: object }> }> }>>;
}

const versionOf = (name: ProcessName) =>
  (
    JSON.parse(readFileSync(new URL(`../services/${name}/package.json`, import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

describe.skipIf(skipWithoutMosquitto)("every process's HTTP API, as its OpenAPI document says", () => {
  let mosquitto: Mosquitto;
  let store: RunningStore;
  let controlRoom: ServiceProcess;
  let uplink: ServiceProcess;
  let hq: EmbeddedTestBroker;
  const data = tempDir('ff-openapi-');
  const docs = {} as Record<ProcessName, Document>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);

  const url = (name: ProcessName, path: string) =>
    name === CONTROL_ROOM
      ? `http://127.0.0.1:${ports.controlRoom}${path}`
      : name === UPLINK
        ? `http://127.0.0.1:${ports.uplink}${path}`
        : store.url(name, path);
  const ports = { controlRoom: 0, uplink: 0 };

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    const name = `openapi-${process.pid}`;
    store = await startStore(mosquitto.url, name);
    controlRoom = spawnService(CONTROL_ROOM, {
      MQTT_URL: mosquitto.url,
      STORE: name,
      DATA_DIR: data.path,
      ...TEST_SERVICE_ENV,
    });
    ports.controlRoom = await controlRoom.httpPort();
    await controlRoom.waitForLog('"msg":"subscribed"');
    // The uplink links the store to a head office: an in-process aedes stands in for HQ.
    hq = await startAedes();
    uplink = spawnService(UPLINK, {
      MQTT_URL: mosquitto.url,
      HQ_URL: hq.url,
      STORE: name,
      DATA_DIR: data.path,
      ...TEST_SERVICE_ENV,
    });
    ports.uplink = await uplink.httpPort();
    await waitUntil(async () => (await fetch(url(UPLINK, '/healthz'))).ok, 'the uplink connected both ways');
    for (const p of PROCESSES) docs[p] = (await (await fetch(url(p, '/openapi.json'))).json()) as Document;
  });
  afterAll(async () => {
    await controlRoom?.stop('SIGTERM');
    await uplink?.stop('SIGTERM');
    await hq?.close();
    await store?.dispose();
    await mosquitto?.dispose();
    data.remove();
  });

  /** The response's body matches what the document says of that status at that path. */
  const expectDocumented = async (name: ProcessName, path: string, method: string, res: Response) => {
    const documented = docs[name].paths[path]?.[method]?.responses[String(res.status)];
    expect(documented, `${name} documents ${res.status} for ${method.toUpperCase()} ${path}`).toBeDefined();
    const schema = documented!.content['application/json']!.schema;
    const body: unknown = await res.json();
    const validate = ajv.compile(schema);
    expect(validate(body) ? [] : validate.errors, `${method.toUpperCase()} ${path} ${res.status}`).toEqual([]);
    return body;
  };

  it.each(PROCESSES)(
    '%s serves a valid OpenAPI 3.1 document, titled by its name and versioned by its package',
    async (name) => {
      const result = await new Validator().validate(docs[name] as unknown as Parameters<Validator['validate']>[0]);
      expect(result.errors).toBeUndefined();
      expect(docs[name].info).toEqual({ title: name, version: versionOf(name) });
      expect(Object.keys(docs[name].paths)).toEqual(expect.arrayContaining(['/healthz', '/metrics', '/openapi.json']));
    },
  );

  it.each(PROCESSES)('%s answers /healthz as documented', async (name) => {
    const res = await fetch(url(name, '/healthz'));
    expect(res.status).toBe(200);
    expect(await expectDocumented(name, '/healthz', 'get', res)).toMatchObject({ status: 'ok', service: name });
  });

  it('inventory-intel answers GET /stock as documented', async () => {
    const res = await fetch(url('inventory-intel', '/stock'));
    expect(res.status).toBe(200);
    expect(((await expectDocumented('inventory-intel', '/stock', 'get', res)) as unknown[]).length).toBeGreaterThan(0);
  });

  it('inventory-intel answers POST /deliveries 202, 400 and 409 as documented', async () => {
    const deliver = (body: object) =>
      fetch(url('inventory-intel', '/deliveries'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const accepted = await deliver({ product_id: 3, quantity: 10, delivery_id: 'openapi-1' });
    expect(accepted.status).toBe(202);
    await expectDocumented('inventory-intel', '/deliveries', 'post', accepted);
    const refused = await deliver({ product_id: 3 });
    expect(refused.status).toBe(400);
    await expectDocumented('inventory-intel', '/deliveries', 'post', refused);
    const conflict = await deliver({ product_id: 3, quantity: 11, delivery_id: 'openapi-1' });
    expect(conflict.status).toBe(409);
    await expectDocumented('inventory-intel', '/deliveries', 'post', conflict);
  });

  it('fastlane-finale answers GET /bills 200 and 400 as documented', async () => {
    const listed = await fetch(url('fastlane-finale', '/bills?customer_id=2'));
    expect(listed.status).toBe(200);
    await expectDocumented('fastlane-finale', '/bills', 'get', listed);
    const refused = await fetch(url('fastlane-finale', '/bills'));
    expect(refused.status).toBe(400);
    await expectDocumented('fastlane-finale', '/bills', 'get', refused);
  });

  const post = (name: ProcessName, body: string, type = 'application/json') =>
    fetch(url(name, '/scans'), { method: 'POST', headers: { 'content-type': type }, body });

  it.each([
    ['gateway-guardian', { customer_id: 2 }, { customer_id: 0 }],
    ['gateexit-guardian', { customer_id: 2, product_ids: [1, 16] }, { customer_id: 2, product_ids: [1.5] }],
  ] as const)('%s answers POST /scans 202, 400, 409, 413 and 415 as documented', async (name, scan, bad) => {
    const accepted = await post(name, JSON.stringify({ ...scan, event_id: `${name}-openapi-1` }));
    expect(accepted.status).toBe(202);
    await expectDocumented(name, '/scans', 'post', accepted);
    const refused = await post(name, JSON.stringify(bad));
    expect(refused.status).toBe(400);
    await expectDocumented(name, '/scans', 'post', refused);
    const conflict = await post(name, JSON.stringify({ ...scan, customer_id: 3, event_id: `${name}-openapi-1` }));
    expect(conflict.status).toBe(409);
    await expectDocumented(name, '/scans', 'post', conflict);
    const huge = await post(name, JSON.stringify({ ...scan, filler: 'x'.repeat(70_000) }));
    expect(huge.status).toBe(413);
    await expectDocumented(name, '/scans', 'post', huge);
    const form = await post(name, 'customer_id=2', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    await expectDocumented(name, '/scans', 'post', form);
  });
});
