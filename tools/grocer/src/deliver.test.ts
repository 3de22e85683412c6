import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from './cli.js';

/*
 * A small local server answers as inventory-intel's POST /deliveries does (202
 * `{ delivery_id, event_id }`, 400 `{ error }`): what grocer sends, and how it reads each answer.
 * What the endpoint does with a delivery is inventory-intel's to test.
 */

interface Asked {
  method: string | undefined;
  url: string | undefined;
  type: string | undefined;
  body: unknown;
}

/** A server answering every request with `status` and `body`; what it was asked. */
async function inventory(status: number, body: unknown): Promise<{ url: string; asked: Asked[]; server: Server }> {
  const asked: Asked[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      asked.push({
        method: req.method,
        url: req.url,
        type: req.headers['content-type'],
        body: JSON.parse(text || 'null'),
      });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, asked, server };
}

async function grocer(argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await run(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { DATA_DIR: '/nonexistent', ...env },
    interrupted: new Promise<void>(() => {}),
  });
  return { code, out, err };
}

describe('grocer deliver', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  });

  it('posts the delivery to inventory-intel and prints the delivery id it accepted', async () => {
    const inv = await inventory(202, { delivery_id: 'd-42', event_id: 'e-1' });
    servers.push(inv.server);
    const r = await grocer(['deliver', '7', '24', '--delivery-id', 'd-42'], { INVENTORY_INTEL_URL: inv.url });
    expect(r).toEqual({ code: 0, out: 'd-42\n', err: '' });
    expect(inv.asked).toEqual([
      {
        method: 'POST',
        url: '/deliveries',
        type: 'application/json',
        body: { product_id: 7, quantity: 24, delivery_id: 'd-42' },
      },
    ]);
  });

  it('makes the delivery id itself when none is given (a retry is then the same delivery), and takes --url over the environment', async () => {
    const inv = await inventory(202, { delivery_id: 'echoed', event_id: 'e-2' });
    servers.push(inv.server);
    const r = await grocer(['deliver', '3', '1', '--url', `${inv.url}/`], {
      INVENTORY_INTEL_URL: 'http://127.0.0.1:9',
    });
    expect(r).toMatchObject({ code: 0, out: 'echoed\n' });
    expect(inv.asked[0]!.body).toEqual({
      product_id: 3,
      quantity: 1,
      delivery_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
    });
  });

  it('names the delivery id to retry with when the answer is lost', async () => {
    const r = await grocer(['deliver', '3', '1'], { INVENTORY_INTEL_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach inventory-intel .*add --delivery-id [0-9a-f-]{36}\n$/);
    expect(r.err.split('\n')).toHaveLength(2);
  });

  it("says in one line why inventory-intel refused it, with inventory-intel's reason", async () => {
    const inv = await inventory(400, { error: 'product_id not in the catalog: 101' });
    servers.push(inv.server);
    const r = await grocer(['deliver', '101', '5'], { INVENTORY_INTEL_URL: inv.url });
    expect(r).toEqual({
      code: 1,
      out: '',
      err: 'grocer deliver: inventory-intel refused the delivery: product_id not in the catalog: 101\n',
    });
  });

  it('says so when inventory-intel takes no deliveries, or answers without an id', async () => {
    const missing = await inventory(404, { error: 'not found' });
    const odd = await inventory(202, {});
    servers.push(missing.server, odd.server);
    const none = await grocer(['deliver', '1', '5', '--url', missing.url]);
    expect(none).toMatchObject({
      code: 1,
      err: `grocer deliver: inventory-intel at ${missing.url} takes no deliveries (POST /deliveries)\n`,
    });
    const empty = await grocer(['deliver', '1', '5', '--url', odd.url]);
    expect(empty).toMatchObject({
      code: 1,
      err: 'grocer deliver: inventory-intel answered 202 without a delivery_id\n',
    });
  });

  it('looks for inventory-intel on the port of the store PORT_OFFSET names', async () => {
    const r = await grocer(['deliver', '1', '5'], { PORT_OFFSET: '10000' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^grocer deliver: cannot reach inventory-intel at http:\/\/localhost:18084 \(.+\); is the store running\? set INVENTORY_INTEL_URL; .*--delivery-id [0-9a-f-]{36}\n$/,
    );
  });
});
