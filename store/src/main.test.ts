import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_FILE } from '@spectrum-grocers/runtime';
import {
  collect,
  freePort,
  repoPath,
  launchStore as launch,
  launchTestStore,
  startAedes,
  tempDir,
  waitUntil,
  type LaunchedStore,
} from '@spectrum-grocers/testkit';

describe('the store launcher (pnpm start)', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('runs an embedded broker and the services, honours per-service settings, and stops cleanly on SIGINT', async () => {
    const port = await freePort();
    const data = tempDir();
    cleanup.push(data.remove);
    const store = launch({
      CONTROL_ROOM: 'false',
      MQTT_PORT: String(port),
      DATA_DIR: data.path,
      SERVICES: 'gateway-guardian,hello-helper',
      GATEWAY_GUARDIAN_HTTP_PORT: '0',
      HELLO_HELPER_HTTP_PORT: '0',
      GATEWAY_GUARDIAN_SCAN_INTERVAL_MIN_S: '0.05',
      GATEWAY_GUARDIAN_SCAN_INTERVAL_MAX_S: '0.1',
    });
    cleanup.push(store.stop);
    await waitUntil(() => store.output().includes('"msg":"store running'), 'the store to start');
    const watcher = await collect(`mqtt://127.0.0.1:${port}`, 'spectrum-grocers/fresh-frontier/display-welcome');
    cleanup.push(() => watcher.close());
    // Simulated arrivals at the entrance, welcomed on the display, through the embedded broker.
    await watcher.waitFor('spectrum-grocers/fresh-frontier/display-welcome', 2, 15_000);
    expect(store.output()).toMatch(/^\[gateway-guardian\] +\{/m);
    expect(store.output()).toMatch(/^\[hello-helper\] +\{.*Welcome/m);
    expect(store.output()).not.toContain('[fastlane-finale]');
    // No HQ_URL, no head office: the store runs on its own, without an uplink.
    expect(store.output()).not.toContain('[uplink]');

    store.child.kill('SIGINT');
    expect(await store.exit).toBe(0);
    expect(store.output()).toContain('"msg":"store stopped"');
    expect(store.output().match(/"msg":"disconnected from broker"/g)).toHaveLength(2);
  });

  it('takes its services down with it even when it is killed with SIGKILL, and they remove its session file', async () => {
    const data = tempDir();
    cleanup.push(data.remove);
    const store = launch({
      CONTROL_ROOM: 'false',
      MQTT_PORT: String(await freePort()),
      SERVICES: 'gateway-guardian,hello-helper',
      GATEWAY_GUARDIAN_HTTP_PORT: '0',
      HELLO_HELPER_HTTP_PORT: '0',
      GATEWAY_GUARDIAN_SIMULATE: 'false',
      DATA_DIR: data.path,
    });
    cleanup.push(store.stop); // should the test fail before it kills the store itself
    await waitUntil(() => store.output().match(/"msg":"connected to broker"/g)?.length === 2, 'both services up');
    const pids = [...store.output().matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1]));
    const children = [...new Set(pids)].filter((pid) => pid !== store.child.pid);
    expect(children).toHaveLength(2);
    store.child.kill('SIGKILL');
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitUntil(() => children.every((pid) => !alive(pid)), 'the orphaned services to stop', 10_000);
    // Regression: a killed launcher left store-session.env (its broker URL and passwords) behind.
    expect(existsSync(join(data.path, SESSION_FILE))).toBe(false);
  });

  it('links the store to its head office with the uplink when HQ_URL is set: statuses go up, prices come down', async () => {
    const hq = await startAedes();
    cleanup.push(() => hq.close());
    const data = tempDir();
    cleanup.push(data.remove);
    const atHq = await collect(hq.url, 'spectrum-grocers/fresh-frontier/status/+');
    cleanup.push(() => atHq.close());
    const port = await freePort();
    const store = launch({
      CONTROL_ROOM: 'false',
      MQTT_PORT: String(port),
      DATA_DIR: data.path,
      SERVICES: 'hello-helper',
      HELLO_HELPER_HTTP_PORT: '0',
      UPLINK_HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      HQ_URL: hq.url,
    });
    cleanup.push(store.stop);
    // hello-helper's status, read from the embedded broker with the uplink's own account.
    const [online] = await atHq.waitFor('spectrum-grocers/fresh-frontier/status/hello-helper', 1, 20_000);
    expect(online!.json()).toMatchObject({ status: 'online' });
    await waitUntil(
      async () => (await fetch(await store.url('uplink', '/healthz'))).status === 200,
      'the uplink up both ways',
    );
    const inStore = await collect(`mqtt://127.0.0.1:${port}`, 'spectrum-grocers/all-stores/price-change');
    cleanup.push(() => inStore.close());
    await atHq.publish('spectrum-grocers/all-stores/price-change', { event_id: 'p-1', product_id: 1, price_cents: 5 });
    await inStore.waitFor('spectrum-grocers/all-stores/price-change');
    expect(store.output()).toMatch(/^\[uplink\] +\{/m);
    store.child.kill('SIGINT');
    expect(await store.exit).toBe(0);
  });

  it('refuses an HQ_URL that is not a broker URL before anything starts, naming it', async () => {
    const data = tempDir();
    cleanup.push(data.remove);
    const store = launch({ MQTT_PORT: String(await freePort()), DATA_DIR: data.path, HQ_URL: 'hq.example' });
    expect(await store.exit).toBe(1);
    expect(store.output()).toMatch(/^store: \[CONFIG_INVALID\] invalid configuration for store:\n {2}HQ_URL: /m);
    expect(store.output()).not.toContain('embedded MQTT broker');
  });

  it('starts no broker when MQTT_URL names one, and runs the services on it', async () => {
    const broker = await startAedes();
    cleanup.push(() => broker.close());
    const data = tempDir();
    cleanup.push(data.remove);
    const watcher = await collect(broker.url, 'spectrum-grocers/fresh-frontier/status/+');
    cleanup.push(() => watcher.close());
    const store = launch({
      CONTROL_ROOM: 'false',
      MQTT_URL: broker.url,
      SERVICES: 'hello-helper',
      HELLO_HELPER_HTTP_PORT: '0',
      DATA_DIR: data.path,
    });
    cleanup.push(store.stop);
    const [online] = await watcher.waitFor('spectrum-grocers/fresh-frontier/status/hello-helper');
    expect(online!.json()).toMatchObject({ status: 'online' });
    expect(store.output()).toContain('starting none');
    expect(store.output()).not.toContain('embedded MQTT broker');
  });

  it('says in one line that the MQTT port is taken, and what to set', async () => {
    const port = await freePort();
    // Two DATA_DIRs: on one, the second would be refused for that first.
    const [one, two] = [tempDir(), tempDir()];
    cleanup.push(one.remove, two.remove);
    const first = launch({
      MQTT_PORT: String(port),
      DATA_DIR: one.path,
      CONTROL_ROOM: 'false',
      SERVICES: 'gateway-guardian',
      GATEWAY_GUARDIAN_HTTP_PORT: '0',
      GATEWAY_GUARDIAN_SIMULATE: 'false',
    });
    cleanup.push(first.stop);
    await waitUntil(() => first.output().includes('"msg":"store running'), 'the first store');
    const second = launch({ MQTT_PORT: String(port), DATA_DIR: two.path });
    expect(await second.exit).toBe(1);
    const lines = second.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^store: \\[PORT_IN_USE\\] port ${port} \\(the MQTT broker\\) is already in use.*PORT_OFFSET=10.*MQTT_PORT.*MQTT_URL`,
      ),
    );
  });

  /** A port someone else listens on, until the test ends. */
  async function occupied(): Promise<number> {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    cleanup.push(() => new Promise((resolve) => server.close(resolve)));
    return (server.address() as { port: number }).port;
  }

  it('refuses in one line, before its broker or any service starts, when an HTTP port is taken (services used to fail and restart for minutes)', async () => {
    const data = tempDir();
    cleanup.push(data.remove);
    const port = await occupied();
    const store = await launchTestStore(data.path, {
      SERVICES: 'hello-helper,inventory-intel',
      CONTROL_ROOM: 'false',
      INVENTORY_INTEL_HTTP_PORT: String(port),
    });
    cleanup.push(store.stop);
    expect(await store.exit).toBe(1);
    expect(store.output().trim().split('\n')).toEqual([
      `store: [PORT_IN_USE] port ${port} (inventory-intel) is already in use (another store?): set PORT_OFFSET=10 to run this store beside it (ports 1893 and 8091–8096); or set INVENTORY_INTEL_HTTP_PORT to a free port`,
    ]);
  });

  it('stops the store in one line when a service fails with PORT_IN_USE, instead of restarting it', async () => {
    const data = tempDir();
    cleanup.push(data.remove);
    // Free when the launcher looks, taken by the first of the two when the second listens.
    const port = await freePort();
    const store = await launchTestStore(data.path, {
      SERVICES: 'gateway-guardian,inventory-intel',
      CONTROL_ROOM: 'false',
      GATEWAY_GUARDIAN_HTTP_PORT: String(port),
      INVENTORY_INTEL_HTTP_PORT: String(port),
    });
    cleanup.push(store.stop);
    expect(await store.exit).toBe(1);
    const out = store.output();
    expect(out).not.toContain('restarting');
    const last = out.trim().split('\n').at(-1);
    expect(last).toMatch(
      new RegExp(`^store: \\[PORT_IN_USE\\] port ${port} \\((gateway-guardian|inventory-intel)\\) is already in use`),
    );
    expect(out.match(/^store: /gm)).toHaveLength(1);
    expect(out).toContain('"msg":"store stopped"');
    expect(existsSync(join(data.path, SESSION_FILE))).toBe(false);
  });

  describe('two stores on one machine', () => {
    // Ports 11883 and 18081 on: clear of a store of this machine (1883, 8081), of the tests'
    // free ports (20000–32767) and of those the system hands out (32768 on).
    const FIRST = 10_000;
    const light = { SERVICES: 'hello-helper', CONTROL_ROOM: 'false', SIMULATE: 'false', HTTP_HOST: '127.0.0.1' };
    const session = (cwd: string, offset: number) =>
      readFileSync(join(cwd, 'data', `offset-${offset}`, SESSION_FILE), 'utf8');

    it('run side by side with PORT_OFFSET alone: their own broker, HTTP ports, DATA_DIR and session file', async () => {
      const cwd = tempDir();
      cleanup.push(cwd.remove);
      const first = launch({ ...light, PORT_OFFSET: String(FIRST) }, { cwd: cwd.path });
      cleanup.push(first.stop);
      await waitUntil(() => first.output().includes('"msg":"store running'), 'the first store');
      const firstSession = session(cwd.path, FIRST);
      expect(firstSession).toContain(`MQTT_URL=mqtt://127.0.0.1:${1883 + FIRST}`);
      expect(firstSession).toContain(`HELLO_HELPER_URL=http://localhost:${8083 + FIRST}`);

      const second = launch({ ...light, PORT_OFFSET: String(FIRST + 10) }, { cwd: cwd.path });
      cleanup.push(second.stop);
      // The lines after "store running" may come in a later read of the pipe: wait for the one we check.
      await waitUntil(() => second.output().includes('entrance display: '), 'the second store');
      expect(second.output()).toContain(`entrance display: http://localhost:${8083 + FIRST + 10}/`);
      expect(session(cwd.path, FIRST + 10)).toContain(`MQTT_URL=mqtt://127.0.0.1:${1893 + FIRST}`);
      for (const offset of [FIRST, FIRST + 10]) {
        await waitUntil(
          async () => (await fetch(`http://127.0.0.1:${8083 + offset}/healthz`).catch(() => undefined))?.status === 200,
          `hello-helper of the store at ${offset}`,
          20_000,
        );
      }
      await second.stop();
      expect(await second.exit).toBe(0);
      expect(existsSync(join(cwd.path, 'data', `offset-${FIRST + 10}`, SESSION_FILE))).toBe(false);
      // The first store's session file is the first store's still.
      expect(session(cwd.path, FIRST)).toBe(firstSession);
      expect(first.child.exitCode).toBeNull();
    });

    it('says in one line which PORT_OFFSET runs a second one beside the first, and takes nothing of the first', async () => {
      const cwd = tempDir();
      cleanup.push(cwd.remove);
      const first = launch({ ...light, PORT_OFFSET: String(FIRST) }, { cwd: cwd.path });
      cleanup.push(first.stop);
      await waitUntil(() => first.output().includes('"msg":"store running'), 'the first store');
      const firstSession = session(cwd.path, FIRST);
      // Another broker port alone: the same DATA_DIR, refused before anything starts.
      const second = launch(
        { ...light, PORT_OFFSET: String(FIRST), MQTT_PORT: String(await freePort()) },
        { cwd: cwd.path },
      );
      expect(await second.exit).toBe(1);
      expect(second.output().trim().split('\n')).toEqual([
        `store: [DATA_DIR_IN_USE] DATA_DIR ./data/offset-${FIRST} is in use by another pnpm start (pid ${first.child.pid}); stop that one, or set PORT_OFFSET=${FIRST + 10} to run this store beside it (ports ${1893 + FIRST} and ${8091 + FIRST}–${8096 + FIRST}, DATA_DIR ./data/offset-${FIRST + 10})`,
      ]);
      expect(session(cwd.path, FIRST)).toBe(firstSession);
      expect(first.child.exitCode).toBeNull();
    });
  });

  describe('Ctrl-C on pnpm start', () => {
    /** pnpm 10 itself: the one running these tests, else the one `npx -y pnpm@10` runs. */
    const pnpm = (): string => {
      const running = process.env.npm_execpath;
      if (running && /pnpm\.c?js$/.test(running)) return running;
      const bin = execFileSync('npx', ['-y', '-p', 'pnpm@10', 'sh', '-c', 'command -v pnpm'], { encoding: 'utf8' });
      return realpathSync(bin.trim());
    };

    it('stops every service once, says "store stopped" and exits 0 without pnpm failing (each service used to stop twice, and pnpm said ELIFECYCLE)', async () => {
      const data = tempDir();
      cleanup.push(data.remove);
      const services = ['gateway-guardian', 'hello-helper'];
      const store = launch(
        {
          MQTT_PORT: String(await freePort()),
          DATA_DIR: data.path,
          SERVICES: services.join(','),
          CONTROL_ROOM: 'false',
          SIMULATE: 'false',
          HTTP_HOST: '127.0.0.1',
          GATEWAY_GUARDIAN_HTTP_PORT: '0',
          HELLO_HELPER_HTTP_PORT: '0',
        },
        { command: [process.execPath, pnpm(), 'start'], cwd: repoPath('.') },
      );
      cleanup.push(store.stop);
      await waitUntil(
        () => store.output().match(/"msg":"connected to broker"/g)?.length === services.length,
        'both services up',
        60_000,
      );
      // As a terminal does: SIGINT to the whole foreground process group (pnpm, the launcher).
      await store.stop();
      expect(await store.exit).toBe(0);
      const out = store.output();
      expect(out).not.toContain('ELIFECYCLE');
      expect(out).toContain('"msg":"store stopped"');
      for (const service of services) {
        const lines = out
          .split('\n')
          .filter((l) => l.startsWith(`[${service}]`) && l.includes('"msg":"shutting down"'));
        expect(lines, service).toHaveLength(1);
      }
    }, 90_000);
  });

  describe('on a DATA_DIR another launcher uses', () => {
    /** A light `pnpm start` on `dir`: hello-helper alone, on a port of its own, its broker on `port`. */
    async function start(dir: string, port: number): Promise<LaunchedStore> {
      const store = await launchTestStore(dir, {
        SERVICES: 'hello-helper',
        CONTROL_ROOM: 'false',
        MQTT_PORT: String(port),
      });
      cleanup.push(store.stop);
      return store;
    }
    const healthy = async (store: LaunchedStore) =>
      waitUntil(
        async () => (await fetch(await store.url('hello-helper', '/healthz'))).status === 200,
        'hello-helper to be healthy',
        20_000,
      );
    const sessionUrl = (dir: string) => /^MQTT_URL=(.*)$/m.exec(readFileSync(join(dir, SESSION_FILE), 'utf8'))?.[1];

    it('refuses to start in one DATA_DIR_IN_USE line, before its broker or any service (two used to run, each removing the other’s session file), and the first keeps running', async () => {
      const data = tempDir();
      cleanup.push(data.remove);
      const port = await freePort();
      const first = await start(data.path, port);
      await healthy(first);
      const second = await start(data.path, await freePort());
      expect(await second.exit).toBe(1);
      expect(second.output().trim().split('\n')).toEqual([
        `store: [DATA_DIR_IN_USE] DATA_DIR ${data.path} is in use by another pnpm start (pid ${first.child.pid}); stop that one, or give this one a DATA_DIR of its own`,
      ]);
      expect(first.child.exitCode).toBeNull();
      expect(sessionUrl(data.path)).toBe(`mqtt://127.0.0.1:${port}`);
      await healthy(first);
    });

    it('starts at once on the DATA_DIR of one killed with SIGKILL, and replaces the stale session file it left', async () => {
      const data = tempDir();
      cleanup.push(data.remove);
      const first = await start(data.path, await freePort());
      await healthy(first);
      const written = readFileSync(join(data.path, SESSION_FILE), 'utf8');
      first.child.kill('SIGKILL');
      await first.exit;
      // Its services remove the file as they stop; one whose services died with it leaves it.
      await waitUntil(() => !existsSync(join(data.path, SESSION_FILE)), 'its services to remove the session file');
      writeFileSync(join(data.path, SESSION_FILE), written, { mode: 0o600 });
      const port = await freePort();
      const again = await start(data.path, port);
      await waitUntil(() => again.output().includes('"msg":"store running'), 'the new launcher to run');
      expect(again.output()).not.toMatch(/^store: /m);
      expect(sessionUrl(data.path)).toBe(`mqtt://127.0.0.1:${port}`);
      // Its hello-helper may wait for the killed one's to finish dying (the supervisor retries).
      await healthy(again);
    });

    it('removes the session file a killed launcher left even when it starts no broker of its own, so tools do not follow the dead one', async () => {
      const data = tempDir();
      cleanup.push(data.remove);
      const first = await start(data.path, await freePort());
      await waitUntil(() => first.output().includes('"msg":"store running'), 'the first launcher to run');
      first.child.kill('SIGKILL');
      await first.exit;
      const broker = await startAedes();
      cleanup.push(() => broker.close());
      const again = await launchTestStore(data.path, {
        SERVICES: 'hello-helper',
        CONTROL_ROOM: 'false',
        MQTT_URL: broker.url,
      });
      cleanup.push(again.stop);
      await waitUntil(() => again.output().includes('"msg":"store running'), 'the new launcher to run');
      expect(existsSync(join(data.path, SESSION_FILE))).toBe(false);
    });
  });
});
