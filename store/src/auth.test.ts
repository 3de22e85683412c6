import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { eventTopic, storeFilter } from '@spectrum-grocers/contract';
import { connectBus, loadConfig } from '@spectrum-grocers/runtime';
import { collect, quietLogger, type Collector } from '@spectrum-grocers/testkit';
import { createAuthorizer } from './auth.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';

const root = { chain: 'spectrum-grocers', store: 'auth-test' };
const credentials = {
  'gateexit-guardian': 'exit-secret',
  'hello-helper': 'hello-secret',
  'fastlane-finale': 'ff-secret',
};
const departure = JSON.stringify({ timestamp: '2026-11-22T10:00:00Z', customer_id: 1, product_ids: [1] });

describe('embedded broker access rules', () => {
  let broker: EmbeddedBroker;
  const open: Array<{ endAsync(force?: boolean): Promise<void> } | Collector> = [];
  const start = async (anonymousRead: boolean) => {
    const log = quietLogger();
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      log,
      auth: createAuthorizer(root, credentials, { anonymousRead, log }),
    });
  };
  const as = async (username?: string, password?: string) => {
    const c = await mqtt.connectAsync(broker.url, { username, password, reconnectPeriod: 0 });
    open.push(c);
    return c;
  };
  const watch = async (username: string, password: string, filter: string) => {
    const c = await collect(broker.url, filter, { username, password });
    open.push(c);
    return c;
  };
  const settle = () => new Promise((r) => setTimeout(r, 300));

  afterEach(async () => {
    for (const c of open.splice(0)) await ('close' in c ? c.close() : c.endAsync(true));
    await broker?.close();
  });

  it('lets each service do its own job: the exit gate publishes, fastlane-finale receives', async () => {
    await start(true);
    const fastlane = await watch('fastlane-finale', 'ff-secret', eventTopic(root, 'customer-departure'));
    const gate = await as('gateexit-guardian', 'exit-secret');
    await gate.publishAsync(eventTopic(root, 'customer-departure'), departure, { qos: 1 });
    expect(await fastlane.waitFor(eventTopic(root, 'customer-departure'))).toHaveLength(1);
  });

  it('refuses a wrong password and an unknown user', async () => {
    await start(true);
    await expect(as('gateexit-guardian', 'guess')).rejects.toThrow(/Bad username or password/i);
    await expect(as('mallory', 'exit-secret')).rejects.toThrow(/Bad username or password/i);
  });

  it('refuses anonymous clients unless anonymous read is on, and then they can only watch', async () => {
    await start(false);
    await expect(as()).rejects.toThrow(/Bad username or password/i);
    await broker.close();
    await start(true);
    const watcher = await collect(broker.url, storeFilter(root));
    open.push(watcher);
    const anonymous = await as();
    const closed = new Promise<void>((resolve) => anonymous.once('close', () => resolve()));
    anonymous.publish(eventTopic(root, 'payment-due'), '{"forged":true}', { qos: 1 });
    await closed;
    await settle();
    expect(watcher.messages).toHaveLength(0);
  });

  it("drops a gate's attempt to publish payment-due: nothing arrives", async () => {
    await start(true);
    const watcher = await collect(broker.url, storeFilter(root));
    open.push(watcher);
    const gate = await as('gateexit-guardian', 'exit-secret');
    gate.publish(eventTopic(root, 'payment-due'), '{"forged":true}', { qos: 1 });
    await settle();
    expect(watcher.on(eventTopic(root, 'payment-due'))).toHaveLength(0);
  });

  it('refuses the display a subscription to departures: nothing arrives', async () => {
    await start(true);
    const display = await as('hello-helper', 'hello-secret');
    // SUBACK 0x80 for each filter; MQTT.js rejects the subscribe.
    await expect(display.subscribeAsync(eventTopic(root, 'customer-departure'), { qos: 1 })).rejects.toThrow(
      /Subscribe error/,
    );
    await expect(display.subscribeAsync(storeFilter(root), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const seen: string[] = [];
    display.on('message', (topic) => seen.push(topic));
    const gate = await as('gateexit-guardian', 'exit-secret');
    await gate.publishAsync(eventTopic(root, 'customer-departure'), departure, { qos: 1 });
    await settle();
    expect(seen).toEqual([]);
  });

  it('stops a service whose account may not read what it subscribes to, saying so', async () => {
    await start(true);
    const config = loadConfig('hello-helper', {
      env: { MQTT_URL: broker.url, STORE: root.store, MQTT_USERNAME: 'hello-helper', MQTT_PASSWORD: 'hello-secret' },
      dotenv: false,
    });
    const bus = connectBus(config, quietLogger());
    try {
      await expect(
        bus.consume([eventTopic(root, 'customer-departure')], () => Promise.resolve()),
      ).rejects.toMatchObject({
        code: 'NOT_AUTHORIZED',
      });
    } finally {
      await bus.close();
    }
  });

  it("lets anonymous watchers run the README's mosquitto_sub -t 'spectrum-grocers/#'", async () => {
    await start(true);
    const anonymous = await as();
    await expect(anonymous.subscribeAsync('spectrum-grocers/#', { qos: 1 })).resolves.toHaveLength(1);
    await expect(anonymous.subscribeAsync('#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
  });
});
