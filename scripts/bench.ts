/**
 * Throughput, latency and memory of departure → payment-due (and inventory) through a
 * Mosquitto started from broker/mosquitto.conf on a free loopback port.
 *
 *   pnpm bench                       (BENCH_COUNT=20000 BENCH_RATE=1000 BENCH_SYNC=full,normal)
 *
 * Bounded: a fixed number of departures, every wait capped, everything stopped at the end.
 */
import { readFileSync } from 'node:fs';
import { eventTopic, SERVICES, type ServiceName, DEFAULT_ROOT } from '@spectrum-grocers/contract';
import { collect, spawnService, startMosquitto, tempDir, waitUntil } from '@spectrum-grocers/testkit';

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const RATE_SECONDS = 5;
const WINDOW = 1000; // departures in flight to the broker at once
const SYNCS = (process.env.BENCH_SYNC ?? 'full,normal').split(',') as Array<'full' | 'normal'>;

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Wait until every consumer has handled `count` departures (its /healthz counters). */
async function drained(ports: number[], count: number): Promise<void> {
  for (const port of ports) {
    await waitUntil(
      async () => {
        const h = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { handled: number };
        return h.handled >= count;
      },
      `consumer on ${port} to handle ${count}`,
      300_000,
    );
  }
}

async function run(sync: 'full' | 'normal') {
  const mosquitto = await startMosquitto();
  const data = tempDir('ff-bench-');
  const store = `bench-${sync}`;
  const root = { chain: DEFAULT_ROOT.chain, store };
  const consumers: ServiceName[] = ['inventory-intel', 'fastlane-finale'];
  const procs = [];
  const ports: number[] = [];
  for (const name of consumers) {
    procs.push(
      spawnService(name, {
        MQTT_URL: mosquitto.url,
        STORE: store,
        DATA_DIR: data.path,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        DB_SYNCHRONOUS: sync,
        RESTOCK_DELAY_S: 'off',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      }),
    );
  }
  const watcher = await collect(mosquitto.url, [eventTopic(root, 'payment-due'), eventTopic(root, 'restock-alert')]);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let paid = 0;
  watcher.client.on('message', (topic, payload) => {
    if (!topic.endsWith('/payment-due')) return;
    paid++;
    const t0 = sentAt.get((JSON.parse(payload.toString()) as { departure_event_id: string }).departure_event_id);
    if (t0 !== undefined) latencies.push(performance.now() - t0);
  });
  try {
    for (const p of procs) ports.push(await p.httpPort());
    await Promise.all(procs.map((p) => p.waitForLog('"msg":"subscribed"')));
    const topic = eventTopic(root, 'customer-departure');
    const departure = (i: number, phase: string) =>
      JSON.stringify({
        event_id: `${phase}-${i}`,
        timestamp: new Date().toISOString(),
        customer_id: 1 + (i % 10),
        product_ids: [1 + (i % 100), 1 + ((i * 7) % 100), 1 + ((i * 13) % 100)],
      });

    // Throughput: publish COUNT departures as fast as the broker acknowledges them.
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: WINDOW }, async () => {
        while (next < COUNT) await watcher.client.publishAsync(topic, departure(next++, 'burst'), { qos: 1 });
      }),
    );
    const published = performance.now() - t0;
    await waitUntil(() => paid >= COUNT, `${COUNT} payments`, 300_000);
    const billed = performance.now() - t0;
    await drained(ports, COUNT);
    const stocked = performance.now() - t0;

    // Latency: a steady RATE for RATE_SECONDS, each departure timed to its payment.
    paid = 0;
    latencies.length = 0;
    const steady = RATE * RATE_SECONDS;
    const start = performance.now();
    for (let i = 0; i < steady; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      sentAt.set(`steady-${i}`, performance.now());
      watcher.client.publish(topic, departure(i, 'steady'), { qos: 1 });
    }
    await waitUntil(() => paid >= steady, `${steady} steady payments`, 120_000);
    await drained(ports, COUNT + steady);
    const sorted = latencies.sort((a, b) => a - b);
    return {
      sync,
      departures: COUNT,
      publishPerS: Math.round(COUNT / (published / 1000)),
      billedPerS: Math.round(COUNT / (billed / 1000)),
      bothDonePerS: Math.round(COUNT / (stocked / 1000)),
      steadyRate: RATE,
      p50Ms: +percentile(sorted, 50).toFixed(2),
      p99Ms: +percentile(sorted, 99).toFixed(2),
      maxMs: +percentile(sorted, 100).toFixed(2),
      rssMb: Object.fromEntries(procs.map((p) => [p.name, rssMb(p.child.pid!)])),
    };
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    await watcher.close();
    await mosquitto.dispose();
    data.remove();
  }
}

const results = [];
for (const sync of SYNCS) results.push(await run(sync));
console.log(
  `\nFresh Frontier benchmark: departure → payment-due through Mosquitto (${SERVICES.length} services; inventory-intel and fastlane-finale running)`,
);
console.table(results.map((r) => ({ ...r, rssMb: JSON.stringify(r.rssMb) })));
