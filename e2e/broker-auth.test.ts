import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic, storeFilter } from '@spectrum-grocers/contract';
import { makeCredentials, passwordVariable, type Account } from '@spectrum-grocers/broker';
import {
  collect,
  skipWithoutMosquitto,
  startMosquitto,
  type Collector,
  type Mosquitto,
} from '@spectrum-grocers/testkit';

// The production config with accounts made by `pnpm broker:credentials`'s code and the
// committed, catalog-generated broker/acl.
describe.skipIf(skipWithoutMosquitto)('Mosquitto locked down: accounts and the generated ACL', () => {
  const { passwordFile, env } = makeCredentials({});
  const password = (a: Account) => env[passwordVariable(a)]!;
  const root = { chain: 'spectrum-grocers', store: 'fresh-frontier' };
  const departures = eventTopic(root, 'customer-departure');
  let broker: Mosquitto;
  let observer: Collector;
  const clients: mqtt.MqttClient[] = [];
  const as = async (username?: string, pass?: string) => {
    const c = await mqtt.connectAsync(broker.url, {
      username,
      password: pass,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    clients.push(c);
    return c;
  };
  const settle = () => new Promise((r) => setTimeout(r, 400));

  beforeAll(async () => {
    broker = await startMosquitto({ auth: { passwordFile } });
    observer = await collect(broker.url, storeFilter(root), {
      username: 'observer',
      password: password('observer'),
    });
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await observer?.close();
    await broker?.dispose();
  });

  it('refuses anonymous and wrong-password connections', async () => {
    await expect(as()).rejects.toThrow(/Not authorized|Bad username or password/i);
    await expect(as('fastlane-finale', 'not-the-password')).rejects.toThrow(/Not authorized|Bad username or password/i);
    await expect(as('mallory', password('fastlane-finale'))).rejects.toThrow(
      /Not authorized|Bad username or password/i,
    );
  });

  it('lets the exit gate publish departures and fastlane-finale read them', async () => {
    const fastlane = await collect(broker.url, departures, {
      username: 'fastlane-finale',
      password: password('fastlane-finale'),
    });
    try {
      const gate = await as('gateexit-guardian', password('gateexit-guardian'));
      await gate.publishAsync(departures, '{"from":"gate"}', { qos: 1 });
      expect((await fastlane.waitFor(departures))[0]!.json()).toEqual({ from: 'gate' });
    } finally {
      await fastlane.close();
    }
  });

  it('drops payment-due published with gate credentials: nothing arrives', async () => {
    const gate = await as('gateexit-guardian', password('gateexit-guardian'));
    // MQTT 3.1.1 has no refusal for a publish: the broker acknowledges and drops it.
    await gate.publishAsync(eventTopic(root, 'payment-due'), '{"forged":true}', { qos: 1 });
    await settle();
    expect(observer.on(eventTopic(root, 'payment-due'))).toHaveLength(0);
  });

  it('gives the display nothing when it subscribes to departures', async () => {
    const display = await as('hello-helper', password('hello-helper'));
    const seen: string[] = [];
    display.on('message', (topic: string) => seen.push(topic));
    await display.subscribeAsync(departures, { qos: 1 }).catch(() => undefined);
    const gate = await as('gateexit-guardian', password('gateexit-guardian'));
    await gate.publishAsync(departures, '{"n":2}', { qos: 1 });
    await settle();
    expect(observer.on(departures).length).toBeGreaterThan(0);
    expect(seen).toEqual([]);
  });
});
