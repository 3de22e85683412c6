import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic, type ServiceName } from '@spectrum-grocers/contract';
import { setTimeout as sleep } from 'node:timers/promises';
import { collect, waitUntil, type Collector } from '@spectrum-grocers/testkit';
import { startFaultStore, type FaultStore } from './store.js';

const KEEPALIVE_S = 4;
const FREEZE_MS = 30_000;

describe('the broker frozen (SIGSTOP) for 30 s while the exit gate keeps scanning', () => {
  let store: FaultStore;
  let watcher: Collector;

  beforeAll(async () => {
    store = await startFaultStore({ MQTT_KEEPALIVE_S: String(KEEPALIVE_S) });
    await store.start('fastlane-finale');
    watcher = await collect(store.broker.url, eventTopic(store.root, 'payment-due'), {
      ...store.watcher(),
      clean: false,
      clientId: 'fault-freeze-watcher',
      keepalive: 120,
    });
  }, 60_000);
  afterAll(async () => {
    store?.broker.signal('SIGCONT');
    await watcher?.close();
    await store?.dispose();
  });

  it('loses no scan, and the services notice within 1.5x keepalive and say so', async () => {
    const gate = await store.start('gateexit-guardian', {
      SIMULATE: 'true',
      SCAN_INTERVAL_MIN_S: '0.05',
      SCAN_INTERVAL_MAX_S: '0.2',
    });
    const scans = () =>
      gate
        .output()
        .split('\n')
        .filter((l) => l.includes('"msg":"departure '))
        .map((l) => JSON.parse(l) as { scan: { event_id: string } })
        .map((l) => l.scan.event_id);
    await waitUntil(() => scans().length >= 20, 'twenty scans before the freeze');

    store.broker.signal('SIGSTOP');
    const frozenAt = Date.now();
    const scansBefore = scans().length;
    const noticed: Partial<Record<ServiceName, number>> = {};
    await Promise.all(
      (['gateexit-guardian', 'fastlane-finale'] as const).map((s) =>
        waitUntil(
          async () => {
            if ((await fetch(store.httpUrl(s, '/healthz'))).status !== 503) return false;
            noticed[s] = Date.now() - frozenAt;
            return true;
          },
          `${s} to notice`,
          20_000,
        ),
      ),
    );
    await sleep(Math.max(0, FREEZE_MS - (Date.now() - frozenAt)));
    const scansWhileFrozen = scans().length - scansBefore;
    store.broker.signal('SIGCONT');

    // Back: the gate publishes what it stored meanwhile; then it stops.
    const outboxEmpty = async () => {
      const h = (await (await fetch(store.httpUrl('gateexit-guardian', '/healthz'))).json()) as {
        status: string;
        outboxPending: number;
      };
      return h.status === 'ok' && h.outboxPending === 0;
    };
    await waitUntil(outboxEmpty, "the gate's outbox to drain", 60_000);
    expect(await store.proc('gateexit-guardian').stop('SIGTERM')).toBe(0);
    const all = scans();
    const billed = () =>
      new Set(
        watcher
          .on(eventTopic(store.root, 'payment-due'))
          .map((m) => m.json<{ departure_event_id: string }>().departure_event_id),
      );
    await waitUntil(() => all.every((id) => billed().has(id)), `payments for all ${all.length} scans`, 60_000);

    for (const s of ['gateexit-guardian', 'fastlane-finale'] as const) {
      expect(noticed[s]).toBeLessThanOrEqual(KEEPALIVE_S * 1500 + 1000); // 1.5x keepalive, and our 1 s of polling slack
      expect(store.proc(s).output()).toContain('broker connection down; reconnecting');
    }
    expect(scansWhileFrozen).toBeGreaterThan(50);
    process.stdout.write(
      `faults: broker frozen ${FREEZE_MS / 1000} s: ${all.length} scans (${scansWhileFrozen} while frozen), 0 lost; ` +
        `noticed after ${noticed['gateexit-guardian']} ms (gate) and ${noticed['fastlane-finale']} ms (fastlane-finale), keepalive ${KEEPALIVE_S} s\n`,
    );
  }, 150_000);
});
