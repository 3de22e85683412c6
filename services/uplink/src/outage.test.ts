import { afterEach, describe, expect, it } from 'vitest';
import { eventTopic, UPLINK } from '@spectrum-grocers/contract';
import {
  collect,
  spawnService,
  startAedes,
  tempDir,
  TEST_SERVICE_ENV,
  waitUntil,
  type Collector,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';
import type { UplinkHealth } from './uplink.js';

type Health = UplinkHealth['detail'] & { status: string };

/** The built uplink as a process, as `pnpm start` runs it; its health read over HTTP. */
async function runUplink(
  env: Record<string, string>,
): Promise<{ proc: ServiceProcess; health: () => Promise<Health> }> {
  const proc = spawnService(UPLINK, { ...TEST_SERVICE_ENV, ...env });
  const port = await proc.httpPort();
  const health = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Health;
  return { proc, health };
}

describe('the uplink process through an HQ outage', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('gets all 500 payment-dues of an HQ outage to HQ, though it was killed with SIGKILL and restarted meanwhile', async () => {
    const [store, hq] = await Promise.all([startAedes(), startAedes()]);
    const data = tempDir('ff-uplink-outage-');
    cleanup.push(
      () => store.close(),
      () => hq.close(),
      data.remove,
    );
    const root = { chain: 'spectrum-grocers', store: `outage-${process.pid}` };
    const topic = eventTopic(root, 'payment-due');
    const atHq: Collector = await collect(hq.url, topic, { clean: false, clientId: `hq-ledger-${root.store}` });
    const till: Collector = await collect(store.url, `${topic}/unused`);
    cleanup.push(
      () => atHq.close(),
      () => till.close(),
    );
    const env = { MQTT_URL: store.url, HQ_URL: hq.url, STORE: root.store, DATA_DIR: data.path };

    const first = await runUplink(env);
    cleanup.push(() => first.proc.stop('SIGKILL'));
    await waitUntil(async () => (await first.health()).status === 'ok', 'the uplink up both ways');
    const outageStarted = Date.now();
    await hq.pause();
    await waitUntil(async () => (await first.health()).unavailable.includes('hq'), 'HQ seen down');

    const pay = (i: number) => till.publish(topic, { event_id: `pay-${i}`, customer_id: i % 10, amount: 1 });
    for (let i = 0; i < 250; i++) await pay(i);
    await waitUntil(async () => (await first.health()).backlog.up > 0, 'some committed to go up');
    // Killed mid-run: some committed to its outbox, the rest still in its session on the store broker.
    expect(await first.proc.stop('SIGKILL')).toBeNull();
    for (let i = 250; i < 500; i++) await pay(i);

    const second = await runUplink(env);
    cleanup.push(() => second.proc.stop('SIGKILL'));
    // The 500, and the statuses of the uplink itself (its will, its new online), all on disk.
    await waitUntil(async () => (await second.health()).backlog.up >= 500, 'all 500 waiting to go up', 20_000);
    const waiting = await second.health();
    expect(waiting).toMatchObject({ status: 'unavailable', unavailable: ['hq'], hq: { connected: false } });

    const hqBack = Date.now();
    await hq.resume();
    const distinct = () => new Set(atHq.on(topic).map((m) => m.json<{ event_id: string }>().event_id));
    await waitUntil(() => distinct().size === 500, 'every payment-due at HQ', 20_000);
    const arrived = Date.now();
    await waitUntil(async () => (await second.health()).status === 'ok', 'healthy again');
    // Delivered to HQ's reader is not yet acknowledged to the uplink: its backlog empties just after.
    await waitUntil(async () => (await second.health()).backlog.up === 0, 'nothing left to send up');
    expect((await second.health()).backlog).toEqual({ up: 0, down: 0 });
    expect(await second.proc.stop('SIGTERM')).toBe(0);
    expect(second.proc.output()).toContain('"msg":"disconnected from broker"');
    // Copies are allowed at HQ (consumers drop them by event_id); a loss is not.
    expect([...distinct()].sort()).toEqual(Array.from({ length: 500 }, (_, i) => `pay-${i}`).sort());
    if (process.env.FF_FIGURES) {
      process.stdout.write(
        `outage test: ${arrived - outageStarted} ms from HQ down to all 500 at HQ; ${arrived - hqBack} ms after HQ came back; ${atHq.on(topic).length} copies for 500 ids\n`,
      );
    }
  });

  it('stops at once with exit code 1 and one line naming HQ_URL when it is not a broker URL', async () => {
    const data = tempDir('ff-uplink-config-');
    cleanup.push(data.remove);
    const proc = spawnService(UPLINK, { ...TEST_SERVICE_ENV, HQ_URL: 'hq.example:4222', DATA_DIR: data.path });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/^uplink: \[CONFIG_INVALID\] invalid configuration for uplink:$/m);
    expect(proc.output()).toMatch(/^ {2}HQ_URL: "hq.example:4222" is not a broker URL/m);
  });
});
