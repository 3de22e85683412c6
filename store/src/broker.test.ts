import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/shared';
import { collect, quietLogger, type Collector } from '@spectrum-grocers/testkit';
import { createAuthorizer } from './auth.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js';

const root = { chain: 'spectrum-grocers', store: 'broker-test' };
const credentials = { 'gateexit-guardian': 'exit-secret', 'fastlane-finale': 'ff-secret' };
const LIMIT = 64 * 1024;

describe('embedded broker packet size limit', () => {
  let broker: EmbeddedBroker | undefined;
  let watcher: Collector | undefined;
  let gate: mqtt.MqttClient | undefined;
  afterEach(async () => {
    await gate?.endAsync(true);
    await watcher?.close();
    await broker?.close();
  });

  it('disconnects a client that publishes past MQTT_MAX_PACKET_BYTES and drops the message; smaller ones pass', async () => {
    const log = quietLogger();
    broker = await startEmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      log,
      auth: createAuthorizer(root, credentials, { anonymousRead: false, log }),
      maxPacketBytes: LIMIT,
    });
    const topic = eventTopic(root, 'customer-departure');
    watcher = await collect(broker.url, topic, { username: 'fastlane-finale', password: 'ff-secret' });
    gate = await mqtt.connectAsync(broker.url, {
      username: 'gateexit-guardian',
      password: 'exit-secret',
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((resolve) => gate!.once('close', () => resolve()));
    gate.publish(topic, Buffer.alloc(LIMIT + 1, 'x'), { qos: 1 });
    await closed;

    gate = await mqtt.connectAsync(broker.url, {
      username: 'gateexit-guardian',
      password: 'exit-secret',
      reconnectPeriod: 0,
    });
    await gate.publishAsync(topic, Buffer.alloc(LIMIT - topic.length, 'y'), { qos: 1 });
    const [got] = await watcher.waitFor(topic, 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(watcher.on(topic)).toHaveLength(1);
    expect(got!.payload[0]).toBe('y'.charCodeAt(0));
  });
});
