import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
import { type Account } from '@spectrum-grocers/broker';
import { collect, waitUntil, type Collector } from '@spectrum-grocers/testkit';
import { connectOnce, HOSTILE_NAMES, mosquittoSub, tryTakeOver, WIRE_ONLY_NAMES } from './attacks.js';
import { startFaultStore, type FaultStore } from './store.js';

const departure = (i: number) =>
  JSON.stringify({ event_id: `hostile-${i}`, timestamp: new Date().toISOString(), customer_id: 1, product_ids: [1] });

describe('hostile clients against Mosquitto with the production config', () => {
  let store: FaultStore;
  let watcher: Collector;
  const billed = () =>
    new Set(
      watcher
        .on(eventTopic(store.root, 'payment-due'))
        .map((m) => m.json<{ departure_event_id: string }>().departure_event_id),
    );
  const publish = async (from: number, to: number) => {
    const gate = await mqtt.connectAsync(store.broker.url, {
      ...store.account('gateexit-guardian'),
      reconnectPeriod: 0,
    });
    for (let i = from; i < to; i++)
      await gate.publishAsync(eventTopic(store.root, 'customer-departure'), departure(i), { qos: 1 });
    await gate.endAsync();
  };

  beforeAll(async () => {
    store = await startFaultStore();
    await store.start('fastlane-finale');
    watcher = await collect(store.broker.url, eventTopic(store.root, 'payment-due'), store.watcher());
  }, 60_000);
  afterAll(async () => {
    await watcher?.close();
    await store?.dispose();
  });

  it('bills every departure queued for fastlane-finale while other accounts try to take its client id', async () => {
    expect(await store.proc('fastlane-finale').stop('SIGTERM')).toBe(0);
    const thieves: Account[] = ['observer', 'control-room', 'gateexit-guardian'];
    let attempts = 0;
    for (let round = 0; round < 6; round++) {
      await publish(round * 10, round * 10 + 10);
      // The id it connects with, and the one the broker names its connection (its account).
      for (const clientId of ['fresh-frontier-fastlane-finale', 'fastlane-finale']) {
        for (const thief of thieves) {
          await tryTakeOver(store.broker.url, clientId, store.account(thief));
          attempts++;
        }
      }
    }
    await store.start('fastlane-finale');
    await waitUntil(() => billed().size >= 60, '60 payments', 30_000).catch(() => undefined);
    const lost = 60 - billed().size;
    process.stdout.write(
      `faults: Mosquitto, ${attempts} take-over attempts on fastlane-finale's id: ${lost} of 60 bills lost\n`,
    );
    expect(lost).toBe(0);
  }, 90_000);

  it('survives CONNECTs with hostile user names and client ids, and keeps billing', async () => {
    let answered = 0;
    for (const name of HOSTILE_NAMES) {
      for (const args of [
        ['-u', name, '-P', 'x'],
        ['-i', name || 'empty', '-u', 'observer', '-P', 'wrong'],
      ]) {
        if ((await mosquittoSub(store.broker.port, [...args, '-t', 'a'])) !== null) answered++;
      }
    }
    expect(answered).toBe(HOSTILE_NAMES.length * 2);
    for (const name of WIRE_ONLY_NAMES) {
      await connectOnce(store.broker.url, { username: name, password: 'x' });
      await connectOnce(store.broker.url, { clientId: name, ...store.account('observer') });
      answered += 2;
    }
    await publish(100, 101);
    await waitUntil(() => billed().has('hostile-100'), 'a bill after the hostile CONNECTs');
    process.stdout.write(`faults: Mosquitto, ${answered} hostile CONNECTs: 0 crashes\n`);
  }, 60_000);

  // Regression: a consumer that came back to a broker without its session never subscribed
  // again, billed nothing, and its /healthz said 200.
  it('subscribes again after Mosquitto is kill -9ed and restarted without its persistence file', async () => {
    const health = async () =>
      (await fetch(store.httpUrl('fastlane-finale', '/healthz')).catch(() => undefined))?.status;
    expect(await health()).toBe(200);
    await store.broker.stop('SIGKILL');
    rmSync(join(store.broker.dataDir, 'mosquitto.db'), { force: true });
    await waitUntil(async () => (await health()) === 503, '/healthz to say 503 while the broker is gone');
    const downAt = Date.now();
    await store.broker.restart();
    await waitUntil(async () => (await health()) === 200, '/healthz 200 again', 20_000);
    const healthyAfterMs = Date.now() - downAt;
    // The watcher (a clean session) is subscribed again by MQTT.js's own reconnect.
    await waitUntil(() => watcher.client.connected, 'the watcher back');
    await new Promise((r) => setTimeout(r, 300)); // its SUBACK
    await publish(200, 250);
    const after = () => Array.from({ length: 50 }, (_, i) => `hostile-${200 + i}`).filter((id) => billed().has(id));
    await waitUntil(() => after().length === 50, '50 bills after the restart', 20_000);
    process.stdout.write(
      `faults: Mosquitto kill -9 without its persistence file: fastlane-finale subscribed again and healthy ${healthyAfterMs} ms after the restart; 50 of 50 later departures billed\n`,
    );
  }, 90_000);
});
