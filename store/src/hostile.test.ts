import { connect as connectTcp, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
import { clientIdOwner } from '@spectrum-grocers/broker';
import { collect, quietLogger, waitUntil } from '@spectrum-grocers/testkit';
import { createAuthorizer } from './auth.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { DEFAULT_LIMITS, type BrokerLimits } from './limits.js';

const root = { chain: 'spectrum-grocers', store: 'hostile-test' };
const credentials = {
  'gateexit-guardian': 'exit-secret',
  'fastlane-finale': 'ff-secret',
  'inventory-intel': 'ii-secret',
  observer: 'observer-secret',
};
const fastlaneId = `${root.store}-fastlane-finale`;
const departures = eventTopic(root, 'customer-departure');
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

/** MQTT 3.1.1 bytes by hand: a UTF-8 string with its length [MQTT-1.5.3]. */
const mqttString = (text: string) => {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};
const packet = (header: number, body: Buffer) => Buffer.concat([Buffer.from([header, body.length]), body]);

/** A persistent subscriber that counts the PUBLISHes it gets and acknowledges none. */
function rawSubscriber(port: number, clientId: string, username: string, password: string, filter: string) {
  const socket = connectTcp(port, '127.0.0.1');
  const connectBody = Buffer.concat([
    mqttString('MQTT'),
    Buffer.from([4, 0xc0, 0, 60]), // level 4; user name and password; clean session off; keepalive
    mqttString(clientId),
    mqttString(username),
    mqttString(password),
  ]);
  const subscribeBody = Buffer.concat([Buffer.from([0, 1]), mqttString(filter), Buffer.from([1])]);
  socket.write(Buffer.concat([packet(0x10, connectBody), packet(0x82, subscribeBody)]));
  let pending = Buffer.alloc(0);
  let publishes = 0;
  let subscribed = false;
  let closed = false;
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    // Every packet here is under 128 bytes: one length byte.
    while (pending.length >= 2 && pending.length >= 2 + pending[1]!) {
      const type = pending[0]! >> 4;
      if (type === 3) publishes++;
      if (type === 9) subscribed = true;
      pending = pending.subarray(2 + pending[1]!);
    }
  });
  return { socket, publishes: () => publishes, subscribed: () => subscribed, closed: () => closed };
}

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

  // Regression: aedes stored a persistent client's whole SUBSCRIBE, refused filters included,
  // and handed it payment-due after a reconnect although its rules refused it.
  it('delivers nothing a refused filter asked for, even to a persistent session after a reconnect', async () => {
    await start();
    const inventory = { clientId: `${root.store}-inventory-intel`, username: 'inventory-intel', password: 'ii-secret' };
    const first = await connect({ ...inventory, clean: false });
    const granted = await first.subscribeAsync([departures, eventTopic(root, 'payment-due')], { qos: 1 }).then(
      (g) => g.map((x) => x.qos),
      (err: { packet: { granted: number[] } }) => err.packet.granted,
    );
    expect(granted).toEqual([1, 128]);
    await first.endAsync();
    const fastlane = await connect({ clientId: fastlaneId, username: 'fastlane-finale', password: 'ff-secret' });
    await fastlane.publishAsync(eventTopic(root, 'payment-due'), '{"forged":false}', { qos: 1 });
    const gate = await connect({ username: 'gateexit-guardian', password: 'exit-secret' });
    await gate.publishAsync(departures, '{"n":1}', { qos: 1 });
    const seen: string[] = [];
    const back = await connect({ ...inventory, clean: false, manualConnect: false });
    back.on('message', (topic) => seen.push(topic));
    await waitUntil(() => seen.includes(departures), 'the queued departure');
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([departures]);
  });

  it('refuses topic filters beyond maxSubscriptions per client, and takes one again after an unsubscribe', async () => {
    await start({ maxSubscriptions: 3 });
    const c = await connect({});
    const filters = ['a', 'b', 'c'].map((x) => `${root.chain}/${root.store}/${x}`);
    expect((await c.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos)).toEqual([1, 1, 1]);
    await expect(c.subscribeAsync(`${root.chain}/${root.store}/d`, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await c.unsubscribeAsync(filters[0]!);
    expect((await c.subscribeAsync(`${root.chain}/${root.store}/d`, { qos: 1 }))[0]!.qos).toBe(1);
    await expect(c.subscribeAsync(`${root.chain}/${'x'.repeat(2000)}`, { qos: 1 })).rejects.toThrow(/Subscribe error/);
  });

  it("keeps an observer's persistent session its own: another client cannot resume or wipe it", async () => {
    await start();
    const mine = { clientId: 'alice-watch', username: 'observer', password: 'observer-secret' };
    const alice = await connect({ ...mine, clean: false });
    await alice.subscribeAsync(departures, { qos: 1 });
    await alice.endAsync();
    expect(await outcome({ clientId: 'alice-watch', clean: true })).toMatch(/Server unavailable/);
    expect(await outcome({ clientId: 'alice-watch', clean: false })).toMatch(/Server unavailable|Not authorized/);
    const again = await connect({ ...mine, clean: false });
    expect((again as unknown as { connackPacket: { sessionPresent: boolean } }).connackPacket.sessionPresent).toBe(
      true,
    );
  });

  // Regression: a connected consumer whose session queue was full was disconnected by aedes
  // ("no such packet") for a message it was not allowed to keep.
  it('keeps a slow consumer connected when its session is full, and still hands it new messages', async () => {
    await start({ maxQueuedOther: 5 });
    // A client that never acknowledges (MQTT.js would take one message at a time).
    const slow = rawSubscriber(broker!.port, 'slow', 'observer', 'observer-secret', departures);
    try {
      await waitUntil(() => slow.subscribed(), 'the SUBACK');
      const gate = await connect({ username: 'gateexit-guardian', password: 'exit-secret' });
      for (let i = 0; i < 10; i++) await gate.publishAsync(departures, `{"n":${i}}`, { qos: 1 });
      await waitUntil(() => slow.publishes() === 10, 'all ten delivered');
      await new Promise((r) => setTimeout(r, 200));
      expect(slow.closed()).toBe(false);
    } finally {
      slow.socket.destroy();
    }
  });

  // Regression (found in review): a cap on TCP connections let idle sockets lock out the
  // store's own services; nothing counts a socket before its CONNECT now.
  it("lets the store's own processes in while hundreds of idle sockets sit open", async () => {
    await start({ maxClients: 4 });
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        const socket = connectTcp(broker!.port, '127.0.0.1');
        socket.on('error', () => undefined);
        idle.push(socket);
      }
      await Promise.all(idle.map((x) => new Promise((r) => (x.readyState === 'open' ? r(0) : x.once('connect', r)))));
      expect(
        await outcome({ clientId: fastlaneId, clean: false, username: 'fastlane-finale', password: 'ff-secret' }),
      ).toBe('accepted');
    } finally {
      for (const x of idle) x.destroy();
    }
  });
});
