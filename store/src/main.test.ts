import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_FILE } from '@spectrum-grocers/runtime';
import {
  collect,
  freePort,
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
    expect(lines.at(-1)).toMatch(new RegExp(`port ${port} is already in use.*MQTT_PORT.*MQTT_URL`));
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
      first.child.kill('SIGKILL');
      await first.exit;
      expect(existsSync(join(data.path, SESSION_FILE))).toBe(true);
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
