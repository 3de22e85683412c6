import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { clientIdOwner, eventTopic } from '@spectrum-grocers/shared';
import { collect, quietLogger, waitUntil } from '@spectrum-grocers/testkit';
import { createAuthorizer } from './auth.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { DEFAULT_LIMITS, type BrokerLimits } from './limits.js';

const root = { chain: 'spectrum-grocers', store: 'hostile-test' };
const credentials = {
  'gateexit-guardian': 'exit-secret',
  'fastlane-finale': 'ff-secret',
  observer: 'observer-secret',
};
const fastlaneId = `${root.store}-fastlane-finale`;
const departures = eventTopic(root, 'customer-departure');
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

describe('the embedded broker against hostile clients', () => {
  let broker: EmbeddedBroker | undefined;
  const open: mqtt.MqttClient[] = [];
  const start = async (limits: Partial<BrokerLimits> = {}) => {
    const log = quietLogger();
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      log,
      auth: createAuthorizer(root, credentials, { anonymousRead: true, log }),
      limits: { ...DEFAULT_LIMITS, ...limits },
      isOwn: (id) => clientIdOwner(root, id) !== undefined,
    });
    return broker;
  };
  const connect = async (opts: mqtt.IClientOptions) => {
    const c = await mqtt.connectAsync(broker!.url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    open.push(c);
    return c;
  };
  /** The CONNACK refusal MQTT.js reports, or 'accepted'. */
  const outcome = (opts: mqtt.IClientOptions) =>
    connect(opts).then(
      () => 'accepted',
      (err: Error) => err.message,
    );
  afterEach(async () => {
    for (const c of open.splice(0)) await c.endAsync(true);
    await broker?.close();
    broker = undefined;
  });

  // Regression: `-u __proto__` found Object.prototype in the credentials, Buffer.from() threw
  // inside aedes' authenticate and took the launcher and every service down.
  it('refuses user names and client ids that name Object.prototype members, and keeps serving', async () => {
    await start();
    for (const name of PROTOTYPE_NAMES) {
      expect(await outcome({ username: name, password: 'x' })).toMatch(/Bad username or password/);
      expect(await outcome({ username: name })).toMatch(/Bad username or password/);
      expect(await outcome({ clientId: name, username: 'observer', password: 'observer-secret' })).toBe('accepted');
    }
    const gate = await connect({ username: 'gateexit-guardian', password: 'exit-secret' });
    await gate.publishAsync(departures, '{}', { qos: 1 });
  });

  // Regression: an anonymous client (or the observer) connecting as fastlane-finale with
  // clean: false received its queued departures, which then went unbilled.
  it("lets no other account, and no anonymous client, take a service's client id", async () => {
    await start();
    const own = { clientId: fastlaneId, clean: false };
    expect(await outcome(own)).toMatch(/Identifier rejected/);
    expect(await outcome({ ...own, clean: true })).toMatch(/Identifier rejected/);
    expect(await outcome({ ...own, username: 'observer', password: 'observer-secret' })).toMatch(/Identifier rejected/);
    expect(await outcome({ ...own, username: 'gateexit-guardian', password: 'exit-secret' })).toMatch(
      /Identifier rejected/,
    );
    expect(
      await outcome({ ...own, clientId: `${fastlaneId}-2`, username: 'observer', password: 'observer-secret' }),
    ).toMatch(/Identifier rejected/);
    expect(await outcome({ ...own, username: 'fastlane-finale', password: 'ff-secret' })).toBe('accepted');
  });

  it('keeps the departures queued for fastlane-finale for fastlane-finale alone', async () => {
    await start();
    const fastlane = await connect({
      clientId: fastlaneId,
      clean: false,
      username: 'fastlane-finale',
      password: 'ff-secret',
    });
    await fastlane.subscribeAsync(departures, { qos: 1 });
    await fastlane.endAsync();
    const gate = await connect({ username: 'gateexit-guardian', password: 'exit-secret' });
    for (let i = 0; i < 20; i++) await gate.publishAsync(departures, `{"n":${i}}`, { qos: 1 });
    for (const thief of [{}, { username: 'observer', password: 'observer-secret' }]) {
      await outcome({ ...thief, clientId: fastlaneId, clean: false });
    }
    const back = await collect(broker!.url, departures, {
      clientId: fastlaneId,
      clean: false,
      username: 'fastlane-finale',
      password: 'ff-secret',
    });
    try {
      await back.waitFor(departures, 20);
    } finally {
      await back.close();
    }
  });

  it('gives anonymous watchers no persistent session', async () => {
    await start();
    expect(await outcome({ clientId: 'watcher', clean: false })).toMatch(/Not authorized/);
    expect(await outcome({ clientId: 'watcher', clean: true })).toBe('accepted');
  });

  it("bounds other clients' sessions and connections, and always lets the store's own processes in", async () => {
    await start({ maxSessions: 3, maxClients: 5 });
    const observer = { username: 'observer', password: 'observer-secret', clean: false };
    for (let i = 0; i < 3; i++) {
      expect(await outcome({ ...observer, clientId: `o${i}` })).toBe('accepted');
    }
    expect(await outcome({ ...observer, clientId: 'o3' })).toMatch(/Server unavailable/);
    // A session already kept may come back; a clean connect gives its room up.
    await open[0]!.endAsync();
    expect(await outcome({ ...observer, clientId: 'o0' })).toBe('accepted');
    expect(await outcome({ ...observer, clientId: 'o1', clean: true })).toBe('accepted');
    expect(await outcome({ ...observer, clientId: 'o3' })).toBe('accepted');
    while ((await outcome({ clientId: `a${open.length}` })) === 'accepted');
    expect(await outcome({ clientId: 'one-more' })).toMatch(/Server unavailable/);
    expect(
      await outcome({ clientId: fastlaneId, clean: false, username: 'fastlane-finale', password: 'ff-secret' }),
    ).toBe('accepted');
  });

  it('queues at most maxQueuedOther messages for a watcher session, and the full backlog for a service', async () => {
    await start({ maxQueued: 500, maxQueuedOther: 50 });
    const sessions = [
      { clientId: 'watcher-1', username: 'observer', password: 'observer-secret' },
      { clientId: fastlaneId, username: 'fastlane-finale', password: 'ff-secret' },
    ];
    for (const s of sessions) {
      const c = await connect({ ...s, clean: false });
      await c.subscribeAsync(departures, { qos: 1 });
      await c.endAsync();
    }
    const gate = await connect({ username: 'gateexit-guardian', password: 'exit-secret' });
    for (let i = 0; i < 600; i++) gate.publish(departures, `{"n":${i}}`, { qos: 1 });
    await waitUntil(() => Object.keys(gate.outgoing).length === 0, 'the publishes acknowledged', 10_000);
    const expected = [50, 500];
    const counts: number[] = [];
    for (const [i, s] of sessions.entries()) {
      const back = await collect(broker!.url, departures, { ...s, clean: false });
      await back.waitFor(departures, expected[i]);
      await new Promise((r) => setTimeout(r, 300));
      counts.push(back.on(departures).length);
      await back.close();
    }
    expect(counts).toEqual(expected);
  });
});
