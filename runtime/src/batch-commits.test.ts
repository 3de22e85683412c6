import type { IPublishPacket } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quietLogger, startAedes, type EmbeddedTestBroker } from '@spectrum-grocers/testkit';
import { commitInOrder } from './batch-commits.js';
import { connectBus, type Bus, type Delivery } from './bus.js';
import { loadConfig } from './config.js';

const batch = (name: string): Delivery[] => [
  { topic: name, payload: Buffer.from(name), packet: { topic: name } as IPublishPacket },
];

describe('batches committed in the order they were handed over', () => {
  let broker: EmbeddedTestBroker;
  let bus: Bus;

  beforeEach(async () => {
    broker = await startAedes();
    bus = connectBus(loadConfig('batch-test', { env: { MQTT_URL: broker.url }, dotenv: false }), quietLogger());
    await bus.ready;
  });
  afterEach(async () => {
    await bus.close(500);
    await broker.close();
  });

  it('commits each batch only after the one before it, whatever order their commits were asked in', async () => {
    const order: string[] = [];
    const commit = commitInOrder(bus, quietLogger(), (b) => {
      order.push(b[0]!.topic);
      return b[0]!.topic.toUpperCase();
    });
    const results = await Promise.all([commit(batch('a')), commit(batch('b')), commit(batch('c'))]);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(results).toEqual(['A', 'B', 'C']);
  });

  it('tries a commit again while connected (a busy database) until it passes', async () => {
    let attempts = 0;
    const commit = commitInOrder(bus, quietLogger(), () => {
      if (++attempts < 3) throw new Error('database is locked');
      return attempts;
    });
    expect(await commit(batch('a'))).toBe(3);
  });

  it('fails the batch behind one that failed for good, and starts afresh with the next', async () => {
    let stopping = false;
    const seen: string[] = [];
    const commit = commitInOrder(bus, quietLogger(), (b) => {
      const name = b[0]!.topic;
      seen.push(name);
      if (stopping && name === 'a') throw new Error('interrupted');
      return name;
    });
    stopping = true;
    const paused = bus.pause();
    const [first, second] = await Promise.allSettled([commit(batch('a')), commit(batch('b'))]);
    await paused;
    expect(first.status).toBe('rejected');
    // Never applied: it would have taken effect before the batch it came after.
    expect(second.status).toBe('rejected');
    expect(seen).toEqual(['a']);
    stopping = false;
    expect(await commit(batch('c'))).toBe('c');
  });
});
