import { afterEach, describe, expect, it } from 'vitest';
import { collect, freePort, launchStore as launch, startAedes, tempDir, waitUntil } from '@spectrum-grocers/testkit';

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

  it('takes its services down with it even when it is killed with SIGKILL', async () => {
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
    const first = launch({
      MQTT_PORT: String(port),
      SERVICES: 'gateway-guardian',
      GATEWAY_GUARDIAN_HTTP_PORT: '0',
      GATEWAY_GUARDIAN_SIMULATE: 'false',
    });
    cleanup.push(first.stop);
    await waitUntil(() => first.output().includes('"msg":"store running'), 'the first store');
    const second = launch({ MQTT_PORT: String(port) });
    expect(await second.exit).toBe(1);
    const lines = second.output().trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`port ${port} is already in use.*MQTT_PORT.*MQTT_URL`));
  });
});
