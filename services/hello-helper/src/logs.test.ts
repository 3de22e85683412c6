import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterTopic, eventTopic } from '@spectrum-grocers/contract';
import {
  collect,
  spawnService,
  startAedes,
  tempDir,
  TEST_SERVICE_ENV,
  waitUntil,
  type Collector,
  type EmbeddedTestBroker,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';

const ARRIVALS = 120;
const REDELIVERED = 10;
const GARBAGE = 40;
const REFUSED = 'refused a customer-arrival message; sent to dead-letter';

interface Line {
  level: number;
  msg: string;
  eventId?: string;
  repeats?: number;
}

/**
 * The built hello-helper, as `pnpm start` runs it, on a real broker: many customers, some
 * arrivals delivered twice, and a publisher sending garbage. What it prints is what a person
 * reads: one line per event, and the garbage counted rather than echoed.
 */
describe('hello-helper: its log over many events', () => {
  let broker: EmbeddedTestBroker;
  let watcher: Collector;
  let data: ReturnType<typeof tempDir>;
  let service: ServiceProcess | undefined;
  const root = { chain: 'spectrum-grocers', store: `logs-${process.pid}` };

  beforeEach(async () => {
    broker = await startAedes();
    data = tempDir();
    watcher = await collect(broker.url, deadLetterTopic(root, 'hello-helper'));
  });
  afterEach(async () => {
    await service?.stop('SIGKILL');
    await watcher.close();
    await broker.close();
    data.remove();
  });

  /** Run hello-helper through every event, stop it, and return what it printed. */
  async function runThrough(format: 'json' | 'pretty'): Promise<{ out: string; ids: string[] }> {
    service = spawnService('hello-helper', {
      ...TEST_SERVICE_ENV,
      MQTT_URL: broker.url,
      STORE: root.store,
      DATA_DIR: data.path,
      LOG_FORMAT: format,
      NO_COLOR: '1',
    });
    await service.waitForLog('subscribed');
    const topic = eventTopic(root, 'customer-arrival');
    const ids = Array.from({ length: ARRIVALS }, () => randomUUID());
    for (const [i, event_id] of ids.entries()) {
      const arrival = { event_id, timestamp: new Date().toISOString(), customer_id: (i % 12) + 1 };
      await watcher.publish(topic, arrival);
      if (i < REDELIVERED) await watcher.publish(topic, arrival);
      if (i < GARBAGE) await watcher.publish(topic, `not an arrival #${i}`);
    }
    await watcher.waitFor(deadLetterTopic(root, 'hello-helper'), GARBAGE, 15_000);
    const last = ids.at(-1)!.slice(0, 8);
    await waitUntil(() => service!.output().includes(`arrival ${last}`), 'the last arrival logged', 15_000);
    expect(await service.stop('SIGTERM')).toBe(0);
    return { out: service.output(), ids };
  }

  it('prints one info line per event, and a repeated warning once with its count', async () => {
    const { out, ids } = await runThrough('json');
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const info = lines.filter((l) => l.level === 30);
    for (const id of ids) {
      expect(info.filter((l) => l.eventId === id)).toHaveLength(ids.indexOf(id) < REDELIVERED ? 2 : 1);
    }
    // Nothing else at info while events flow: only start-up before them and shut-down after.
    const first = info.findIndex((l) => l.eventId !== undefined);
    const eventful = info.slice(first, info.findLastIndex((l) => l.eventId !== undefined) + 1);
    expect(eventful.every((l) => l.eventId !== undefined)).toBe(true);
    expect(eventful).toHaveLength(ARRIVALS + REDELIVERED);

    const refused = lines.filter((l) => l.msg.startsWith(REFUSED));
    expect(refused.map((l) => [l.level, l.repeats])).toEqual([
      [40, undefined],
      [40, GARBAGE - 1],
    ]);
    expect(refused[1]!.msg).toMatch(/\(repeated 39 times in the last \d+ s\)$/);
  });

  it('prints each event on one short line in a terminal, without its topic', async () => {
    const { out, ids } = await runThrough('pretty');
    const lines = out.trimEnd().split('\n');
    for (const id of ids.slice(REDELIVERED)) {
      expect(lines.filter((l) => l.includes(id.slice(0, 8)))).toHaveLength(1);
    }
    expect(lines.filter((l) => l.includes(' INF arrival '))).toHaveLength(ARRIVALS);
    expect(lines.filter((l) => l.includes(REFUSED))).toHaveLength(2);
    expect(out).not.toContain(eventTopic(root, 'customer-arrival'));
    const infoWidths = lines.filter((l) => l.includes(' INF ')).map((l) => l.length);
    expect(Math.max(...infoWidths)).toBeLessThanOrEqual(80);
  });
});
