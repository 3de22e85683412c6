import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
import { newPassword } from '@spectrum-grocers/broker';
import {
  collect,
  freePort,
  launchTestStore,
  tempDir,
  waitUntil,
  type Collector,
  type LaunchedStore,
} from '@spectrum-grocers/testkit';
import { connectOnce, HOSTILE_NAMES, mosquittoSub, tryTakeOver, WIRE_ONLY_NAMES } from './attacks.js';

const STORE = 'fresh-frontier';
const OWN_ID = `${STORE}-fastlane-finale`;

/** Resident memory of a process, from /proc (Linux). */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

describe('hostile clients against the embedded store (pnpm start)', () => {
  const data = tempDir('ff-hostile-');
  const observer = { username: 'observer', password: newPassword() };
  let launched: LaunchedStore;
  let url: string;
  let watcher: Collector;
  const root = { chain: 'spectrum-grocers', store: STORE };
  const port = () => Number(new URL(url).port);
  const billed = () => watcher.on(eventTopic(root, 'payment-due')).length;
  const healthy = async (service: string) =>
    (await fetch(await launched.url(service, '/healthz')).catch(() => undefined))?.status === 200;
  const scan = async (i: number) => {
    const res = await fetch(await launched.url('gateexit-guardian', '/scans'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: 1 + (i % 10), product_ids: [1 + (i % 100)] }),
    });
    expect(res.status).toBe(202);
  };
  /** POST `count` scans, `concurrency` at a time. */
  const scans = async (count: number, concurrency = 32) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await scan(next++);
      }),
    );
  };

  beforeAll(async () => {
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    launched = await launchTestStore(data.path, {
      MQTT_PORT: String(port),
      SERVICES: 'gateexit-guardian,fastlane-finale',
      CONTROL_ROOM: 'false',
      OBSERVER_MQTT_PASSWORD: observer.password,
    });
    await waitUntil(
      async () => (await healthy('fastlane-finale')) && (await healthy('gateexit-guardian')),
      'the store',
      30_000,
    );
    watcher = await collect(url, eventTopic(root, 'payment-due'));
  }, 60_000);
  afterAll(async () => {
    await watcher?.close();
    await launched?.stop();
    data.remove();
  });

  // Regression: `mosquitto_sub -u __proto__ -P x` threw inside aedes and took the store down.
  it('survives CONNECTs with hostile user names and client ids', async () => {
    let connects = 0;
    for (const name of HOSTILE_NAMES) {
      await mosquittoSub(port(), ['-u', name, '-P', 'x', '-t', 'a']);
      await mosquittoSub(port(), ['-u', name, '-t', 'a']);
      await mosquittoSub(port(), ['-i', name || 'empty', '-t', 'a']);
      connects += 3;
    }
    for (const name of WIRE_ONLY_NAMES) {
      await connectOnce(url, { username: name, password: 'x' });
      await connectOnce(url, { clientId: name });
      connects += 2;
    }
    expect(launched.child.exitCode).toBeNull();
    expect(await healthy('fastlane-finale')).toBe(true);
    await scan(0);
    await waitUntil(() => billed() >= 1, 'a bill after the hostile CONNECTs');
    process.stdout.write(`faults: embedded broker, ${connects} hostile CONNECTs: 0 crashes\n`);
  }, 60_000);

  // Regression: anonymous and observer clients connecting as fastlane-finale took its queued
  // departures (79 of 80 unbilled) and kicked it out until it gave up (CLIENT_ID_IN_USE).
  it("bills every scan while anonymous and observer clients try to take fastlane-finale's session", async () => {
    const before = billed();
    let stop = false;
    let attempts = 0;
    let taken = 0;
    const thief = (async () => {
      while (!stop) {
        for (const account of [{}, observer]) {
          if ((await tryTakeOver(url, OWN_ID, account)) === 'connected') taken++;
          attempts++;
        }
      }
    })();
    await scans(80, 4);
    await waitUntil(() => billed() - before >= 80, '80 bills', 20_000).catch(() => undefined);
    stop = true;
    await thief;
    const lost = 80 - (billed() - before);
    process.stdout.write(
      `faults: embedded broker, ${attempts} take-over attempts on fastlane-finale's id (${taken} let in): ${lost} of 80 bills lost\n`,
    );
    expect(taken).toBe(0);
    expect(lost).toBe(0);
    expect(launched.output()).not.toContain('CLIENT_ID_IN_USE');
  }, 60_000);

  // Regression: 350 anonymous persistent sessions, then 5,000 departures, took the launcher
  // from 77 MB to 693 MB, and it stayed there.
  it('keeps its memory bounded under 700 hostile persistent sessions and 5,000 departures', async () => {
    const pid = launched.child.pid!;
    const base = rssMb(pid);
    let admitted = 0;
    for (let i = 0; i < 700; i++) {
      const account = i % 2 === 0 ? {} : observer;
      try {
        const c = await mqtt.connectAsync(url, { ...account, clientId: `hog-${i}`, clean: false, reconnectPeriod: 0 });
        await c.subscribeAsync('spectrum-grocers/#', { qos: 1 });
        await c.endAsync();
        admitted++;
      } catch {
        // refused: no room, or no persistent session for anonymous clients
      }
    }
    const before = billed();
    await scans(5_000);
    await waitUntil(() => billed() - before >= 5_000, '5,000 bills', 60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const after = rssMb(pid);
    process.stdout.write(
      `faults: embedded broker, 700 hostile persistent sessions (${admitted} admitted) + 5000 departures: launcher RSS ${base.toFixed(0)} MB -> ${after.toFixed(0)} MB\n`,
    );
    expect(admitted).toBe(16); // MQTT_MAX_SESSIONS
    expect(after - base).toBeLessThan(150);
  }, 120_000);
});
