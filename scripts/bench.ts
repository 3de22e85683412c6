/**
 * Throughput, latency and memory of departure → payment-due (and inventory) through a
 * Mosquitto started from broker/mosquitto.conf on a free loopback port, for each candidate in
 * one run: the bare relay (scripts/relay.ts: nothing stored), fastlane-finale alone,
 * inventory-intel alone, and both consuming the same departures, so each service's rate reads
 * as a share of what the broker and MQTT.js allow on this machine at this moment.
 *
 *   pnpm bench        (BENCH_COUNT=20000 BENCH_RATES=500,2000 BENCH_ONLY=relay,fastlane,...)
 *
 * Bounded: a fixed number of departures, every wait capped, everything stopped at the end.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { eventTopic, type ServiceName, DEFAULT_ROOT } from '@spectrum-grocers/contract';
import {
  collect,
  repoPath,
  spawnService,
  startMosquitto,
  tempDir,
  waitUntil,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';

const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const RATES = (process.env.BENCH_RATES ?? '500,2000').split(',').map(Number);
const RATE_SECONDS = 5;
const WINDOW = 1000; // departures in flight to the broker at once

type Sync = 'full' | 'normal';
interface Candidate {
  key: string;
  label: string;
  sync?: Sync;
  consumers: ReadonlyArray<ServiceName | 'relay'>;
}
const CANDIDATES: readonly Candidate[] = [
  { key: 'relay', label: 'bare MQTT.js relay (nothing stored)', consumers: ['relay'] },
  { key: 'fastlane', label: 'fastlane-finale alone', sync: 'full', consumers: ['fastlane-finale'] },
  { key: 'inventory', label: 'inventory-intel alone', sync: 'full', consumers: ['inventory-intel'] },
  { key: 'both', label: 'both, same departures', sync: 'full', consumers: ['inventory-intel', 'fastlane-finale'] },
  {
    key: 'both-normal',
    label: 'both, same departures',
    sync: 'normal',
    consumers: ['inventory-intel', 'fastlane-finale'],
  },
];
const ONLY = process.env.BENCH_ONLY?.split(',');

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Wait until every service has handled `count` departures (its /healthz counters). */
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

/** The bare relay as a process of its own, as a service runs. */
function spawnRelay(env: Record<string, string>): ServiceProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@spectrum-grocers/source', repoPath('scripts/relay.ts')],
    { env: { PATH: process.env.PATH ?? '', ...env }, cwd: repoPath('.'), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    name: 'relay',
    child,
    exited,
    output: () => out,
    waitForLog: (text, timeoutMs = 15_000) =>
      waitUntil(() => out.includes(text) || undefined, `relay: ${text}`, timeoutMs).then(() => undefined),
    httpPort: () => Promise.reject(new Error('the relay has no HTTP')),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

async function run(candidate: Candidate) {
  const mosquitto = await startMosquitto();
  const data = tempDir('ff-bench-');
  const store = `bench-${candidate.key}`;
  const root = { chain: DEFAULT_ROOT.chain, store };
  const env = { MQTT_URL: mosquitto.url, STORE: store };
  const procs: ServiceProcess[] = [];
  const services: ServiceProcess[] = [];
  for (const name of candidate.consumers) {
    if (name === 'relay') {
      procs.push(spawnRelay(env));
      continue;
    }
    const proc = spawnService(name, {
      ...env,
      DATA_DIR: data.path,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      DB_SYNCHRONOUS: candidate.sync ?? 'full',
      RESTOCK_DELAY_S: 'off',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    });
    procs.push(proc);
    services.push(proc);
  }
  // Payments tell when a departure is done, when something bills; else the services' counters.
  const pays = candidate.consumers.some((c) => c === 'relay' || c === 'fastlane-finale');
  const watcher = await collect(mosquitto.url, [eventTopic(root, 'payment-due')]);
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let paid = 0;
  watcher.client.on('message', (_topic, payload) => {
    paid++;
    const t0 = sentAt.get((JSON.parse(payload.toString()) as { departure_event_id: string }).departure_event_id);
    if (t0 !== undefined) latencies.push(performance.now() - t0);
  });
  try {
    const ports: number[] = [];
    for (const p of services) ports.push(await p.httpPort());
    await Promise.all(procs.map((p) => p.waitForLog('"msg":"subscribed"')));
    const topic = eventTopic(root, 'customer-departure');
    const departure = (i: number, phase: string) =>
      JSON.stringify({
        event_id: `${phase}-${i}`,
        timestamp: new Date().toISOString(),
        customer_id: 1 + (i % 10),
        product_ids: [1 + (i % 100), 1 + ((i * 7) % 100), 1 + ((i * 13) % 100)],
      });
    let handled = 0;
    const done = async (count: number) => {
      if (pays) await waitUntil(() => paid >= count, `${count} payments`, 300_000);
      await drained(ports, handled + count);
      handled += count;
    };

    // Throughput: publish COUNT departures as fast as the broker acknowledges them.
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: WINDOW }, async () => {
        while (next < COUNT) await watcher.client.publishAsync(topic, departure(next++, 'burst'), { qos: 1 });
      }),
    );
    await done(COUNT);
    const elapsed = performance.now() - t0;
    const rss = Object.fromEntries(procs.map((p) => [p.name, rssMb(p.child.pid!)]));

    // Latency: each steady rate for RATE_SECONDS, each departure timed to its payment.
    const steady: Record<string, { p50: number; p99: number }> = {};
    for (const rate of RATES) {
      paid = 0;
      latencies.length = 0;
      const total = rate * RATE_SECONDS;
      const start = performance.now();
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        sentAt.set(`steady${rate}-${i}`, performance.now());
        watcher.client.publish(topic, departure(i, `steady${rate}`), { qos: 1 });
      }
      await done(total);
      const sorted = latencies.sort((a, b) => a - b);
      steady[rate] = { p50: +percentile(sorted, 50).toFixed(2), p99: +percentile(sorted, 99).toFixed(2) };
    }
    return { candidate, perS: Math.round(COUNT / (elapsed / 1000)), steady, rss, pays };
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    await watcher.close();
    await mosquitto.dispose();
    data.remove();
  }
}

const results = [];
for (const candidate of CANDIDATES) if (!ONLY || ONLY.includes(candidate.key)) results.push(await run(candidate));
const relay = results.find((r) => r.candidate.key === 'relay');
console.log(
  `\nFresh Frontier benchmark: ${COUNT} departures (3 products each) through Mosquitto, then ` +
    `${RATES.join(' and ')}/s for ${RATE_SECONDS} s each; latency is departure → payment-due`,
);
console.table(
  results.map((r) => ({
    candidate: r.candidate.label,
    sync: r.candidate.sync ?? '—',
    'departures/s': r.perS,
    'vs relay': relay ? `${(r.perS / relay.perS).toFixed(2)}×` : '—',
    ...Object.fromEntries(
      RATES.map((rate) => [
        `p50 / p99 ms at ${rate}/s`,
        r.pays ? `${r.steady[rate]!.p50} / ${r.steady[rate]!.p99}` : '—',
      ]),
    ),
    'RSS MB': Object.values(r.rss).join(' + '),
  })),
);
