import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { eventTopic } from '@spectrum-grocers/contract';
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
    // The whole packet counts, as Mosquitto's max_packet_size: topic length, topic, packet id, payload.
    await gate.publishAsync(topic, Buffer.alloc(LIMIT - topic.length - 4, 'y'), { qos: 1 });
    const [got] = await watcher.waitFor(topic, 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(watcher.on(topic)).toHaveLength(1);
    expect(got!.payload[0]).toBe('y'.charCodeAt(0));
  });

  // Regression: aedes read a whole packet before any hook saw it, so one socket announcing a
  // 200 MB CONNECT grew the broker by 200 MB before it was refused.
  it('cuts off a client as soon as a packet header announces more than the limit, before reading it', async () => {
    const log = quietLogger();
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log, maxPacketBytes: LIMIT });
    const port = broker.port;
    /** Send `header`, then stream zeros until the broker closes the socket; how many bytes went. */
    const flood = (header: Buffer, pre: Buffer = Buffer.alloc(0)) =>
      new Promise<number>((resolve, reject) => {
        let sent = 0;
        const socket: Socket = connect(port, '127.0.0.1', () => {
          socket.write(Buffer.concat([pre, header]));
          const chunk = Buffer.alloc(64 * 1024);
          const pump = () => {
            while (sent < 50 * 1024 * 1024 && socket.write(chunk)) sent += chunk.length;
            if (sent < 50 * 1024 * 1024) socket.once('drain', pump);
          };
          pump();
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(sent));
        setTimeout(() => reject(new Error(`not cut off after ${sent} bytes`)), 10_000).unref();
      });
    // Remaining length 200,000,000 as a variable byte integer [MQTT-2.2.3].
    const length = (n: number) => {
      const out: number[] = [];
      do {
        let byte = n % 128;
        n = Math.floor(n / 128);
        if (n > 0) byte |= 0x80;
        out.push(byte);
      } while (n > 0);
      return Buffer.from(out);
    };
    const hugeConnect = Buffer.concat([Buffer.from([0x10]), length(200_000_000)]);
    expect(await flood(hugeConnect)).toBeLessThan(10 * 1024 * 1024);
    // After a good CONNECT, a publish announcing more than the limit.
    const connectPacket = Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 30, 0, 1, 0x61]);
    const hugePublish = Buffer.concat([Buffer.from([0x30]), length(LIMIT * 100)]);
    expect(await flood(hugePublish, connectPacket)).toBeLessThan(10 * 1024 * 1024);
  });
});
