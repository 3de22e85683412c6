import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, launchTestStore, repoPath, tempDir, waitUntil, type LaunchedStore } from '@spectrum-grocers/testkit';

/**
 * grocer as people run it (`npx -y pnpm@10 --silent grocer …`: tsx on its sources), as a process
 * of its own: what it printed and how it exited, 30 s at most.
 */
function grocer(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(
    repoPath('node_modules/.bin/tsx'),
    ['--conditions=@spectrum-grocers/source', repoPath('tools/grocer/src/main.ts'), ...args],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    }),
  );
}

/** One line on stderr, nothing on stdout, exit 1. */
function failedInOneLine(r: { code: number | null; out: string; err: string }, line: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.out).toBe('');
  expect(r.err).toMatch(line);
  expect(r.err.trim().split('\n')).toHaveLength(1);
}

describe('grocer failing, as a process', () => {
  const data = tempDir();
  const elsewhere = tempDir();
  let store: LaunchedStore;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    store = await launchTestStore(data.path, {
      SERVICES: 'hello-helper,inventory-intel',
      CONTROL_ROOM: 'false',
      MQTT_PORT: String(port),
    });
    await waitUntil(() => store.output().includes('"msg":"store running'), 'the store to run', 20_000);
    url = `mqtt://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await store?.stop();
    data.remove();
    elsewhere.remove();
  });

  it('says in one line that the broker refused a publish without credentials (it used to print nothing and exit 13)', async () => {
    // The store's broker, but not its session file: no account's password is known.
    const r = await grocer(['publish', 'customer-departure', '--customer_id', '4', '--product_ids', '1,2'], {
      MQTT_URL: url,
      DATA_DIR: elsewhere.path,
    });
    failedInOneLine(
      r,
      /^grocer publish: could not publish customer-departure without credentials \(no password for gateexit-guardian: start the store, or set GATEEXIT_GUARDIAN_MQTT_PASSWORD\): the broker closed the connection\n$/,
    );
  });

  it('publishes with the running store’s accounts, found through its DATA_DIR', async () => {
    const r = await grocer(['publish', 'customer-arrival', '--customer_id', '4'], { DATA_DIR: data.path });
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^[0-9a-f-]{36}\n$/);
  });

  it('delivers to the running store: the stock rises once per delivery id, and other goods under it are refused', async () => {
    const stockOf = async (id: number) => {
      const url = await store.url('inventory-intel', '/stock');
      const rows = (await (await fetch(url)).json()) as Array<{ product_id: number; quantity: number }>;
      return rows.find((r) => r.product_id === id)!.quantity;
    };
    const before = await stockOf(3);
    // Its port is one the test store picked, not in the session file: told as a user would.
    const env = {
      DATA_DIR: data.path,
      INVENTORY_INTEL_URL: (await store.url('inventory-intel', '')).replace(/\/$/, ''),
    };
    const first = await grocer(['deliver', '3', '40', '--delivery-id', 'grocer-e2e-1'], env);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out.trim()).toBe('grocer-e2e-1');
    await waitUntil(async () => (await stockOf(3)) === before + 40, 'the delivery on the shelf');
    const again = await grocer(['deliver', '3', '40', '--delivery-id', 'grocer-e2e-1'], env);
    expect(again.code).toBe(0);
    failedInOneLine(
      await grocer(['deliver', '3', '41', '--delivery-id', 'grocer-e2e-1'], env),
      /grocer-e2e-1 was accepted as 40 of product 3/,
    );
    failedInOneLine(await grocer(['deliver', '555', '1'], env), /555 is not in the catalog/);
    // The repeat raised nothing: a delivery after it lands on before + 40.
    await grocer(['deliver', '3', '1', '--delivery-id', 'grocer-e2e-2'], env);
    await waitUntil(async () => (await stockOf(3)) === before + 41, 'the second delivery on the shelf');
  });

  it('says in one line that the broker refused a wrong password', async () => {
    const r = await grocer(
      ['publish', 'customer-arrival', '--customer_id', '4', '-u', 'gateway-guardian', '-p', 'wrong'],
      { MQTT_URL: url, DATA_DIR: elsewhere.path },
    );
    failedInOneLine(
      r,
      /^grocer publish: cannot connect to mqtt:\/\/127\.0\.0\.1:\d+ as gateway-guardian: Connection refused: Bad username or password\n$/,
    );
  });

  it('says in one line that a load was refused, after what it sent', async () => {
    const r = await grocer(['load', 'departures', '--count', '3', '--rate', '100'], {
      MQTT_URL: url,
      DATA_DIR: elsewhere.path,
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^grocer load: the broker closed the connection after 0 of \d+ were acknowledged\n$/);
  });

  it('says in one line that no store runs where it looked', async () => {
    const r = await grocer(['tail'], { MQTT_PORT: String(await freePort()), DATA_DIR: elsewhere.path });
    failedInOneLine(
      r,
      /^grocer tail: cannot connect to mqtt:\/\/localhost:\d+: .*ECONNREFUSED.*; is the store running\?\n$/,
    );
  });

  it('gives up in one line on a broker that never answers, within its 10 s', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const r = await grocer(['tail'], { MQTT_URL: `mqtt://127.0.0.1:${port}`, DATA_DIR: elsewhere.path });
      failedInOneLine(
        r,
        /^grocer tail: cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: no answer within 10 s; is the store running\?\n$/,
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 30_000);

  it('exits 2 with one line for a wrong call', async () => {
    const r = await grocer(['publish', 'no-such-event'], { DATA_DIR: elsewhere.path });
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^grocer publish: unknown event no-such-event .*\n$/);
  });
});
