/**
 * One run of `pnpm bench`: a Mosquitto of its own, the consumers under test spawned from
 * dist, a burst of departures as fast as the broker acknowledges them (WINDOW in flight), then
 * each steady rate timed departure → payment-due; memory, CPU and the services' counters read
 * throughout. Every wait is capped; everything started is stopped.
 */
import { eventTopic, type ServiceName, type TopicRoot, DEFAULT_ROOT } from '@spectrum-grocers/contract';
import {
  collect,
  freePorts,
  spawnService,
  startMosquitto,
  tempDir,
  waitUntil,
  type Collector,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';
import { spreadProductId } from './bench-catalog.js';
import { publishBurst, RATE_SECONDS, steadyPhases, watchPayments, type Departure } from './bench-load.js';
import {
  cpuSeconds,
  health,
  rssMb,
  sampleRssPeaks,
  spawnRelay,
  spawnScript,
  startupMs,
  type Health,
} from './bench-procs.js';

/** The longest any one wait of a run may take. */
const WAIT_MS = 300_000;

export type Sync = 'full' | 'normal';

export interface RunSpec {
  key: string;
  label: string;
  sync?: Sync;
  consumers: ReadonlyArray<ServiceName | 'relay'>;
  /** Departures of the burst. */
  count: number;
  /** Steady rates (departures/s), RATE_SECONDS each; none for a burst alone. */
  rates: readonly number[];
  /** Departures name products 1..catalogSize (three each). */
  catalogSize: number;
  /** More environment for the services (MAX_IN_FLIGHT, CATALOG_FILE). */
  env?: Record<string, string>;
  /** Mosquitto from broker/mosquitto.conf (default), or the store's embedded aedes. */
  broker?: 'mosquitto' | 'embedded';
}

export interface ProcResult {
  name: string;
  /** Spawn → /healthz 200 (the relay: → subscribed). */
  startMs: number;
  rssStartMb: number;
  rssBurstMb: number;
  /** The largest RSS sampled (every 100 ms) during the burst and the steady phases. */
  rssPeakMb: number;
  /** CPU (user + system) of the burst over its departures. */
  cpuUsPerDeparture: number;
  /** Its /healthz at the end of the run (services only). */
  health?: Health;
}

export interface RunResult {
  spec: RunSpec;
  perS: number;
  steady: Record<number, { p50: number; p99: number }>;
  procs: ProcResult[];
  /** Whether something bills (payments tell when a departure is done). */
  pays: boolean;
  /** Departures sent in all: the burst and every steady phase. */
  departures: number;
  paidTotal: number;
  paidUnique: number;
}

/** Wait until every service has handled `count` departures (its /healthz counters). */
async function drained(ports: number[], count: number): Promise<void> {
  for (const port of ports) {
    await waitUntil(
      async () => ((await health(port))?.handled ?? -1) >= count,
      `consumer on ${port} to handle ${count}`,
      WAIT_MS,
    );
  }
}

/** A consumer spawned and ready: its start time, and its HTTP port (services only). */
interface Started {
  proc: ServiceProcess;
  startMs: number;
  port: number | undefined;
}

/** Spawn every consumer of `spec` at once; each one's start time is measured from its own spawn. */
async function spawnAll(spec: RunSpec, env: Record<string, string>, dataDir: string) {
  /** Every process spawned, ready or not: all of them are stopped. */
  const all: ServiceProcess[] = [];
  const started = spec.consumers.map(async (name) => {
    const at = performance.now();
    if (name === 'relay') {
      const proc = spawnRelay({ ...env, ...spec.env });
      all.push(proc);
      await proc.waitForLog('"msg":"subscribed"', 60_000);
      return { proc, startMs: performance.now() - at, port: undefined };
    }
    const proc = spawnService(name, {
      ...env,
      ...spec.env,
      DATA_DIR: dataDir,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      DB_SYNCHRONOUS: spec.sync ?? 'full',
      RESTOCK_DELAY_S: 'off',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    });
    all.push(proc);
    const startMs = await startupMs(proc, at);
    return { proc, startMs, port: await proc.httpPort() };
  });
  const settled = await Promise.allSettled<Started>(started);
  const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  return { all, ok, failure: failed?.status === 'rejected' ? (failed.reason as Error) : undefined };
}

/** The run's broker, in a process of its own as in production. */
async function startBroker(kind: RunSpec['broker']): Promise<{ url: string; dispose(): Promise<unknown> }> {
  if (kind !== 'embedded') return startMosquitto();
  const [port] = await freePorts(1);
  const proc = spawnScript('embedded broker', 'scripts/embedded-broker.ts', { MQTT_PORT: String(port) });
  try {
    await proc.waitForLog('"msg":"listening"', 60_000);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return { url: `mqtt://127.0.0.1:${port}`, dispose: () => proc.stop('SIGTERM') };
}

export async function runBench(spec: RunSpec): Promise<RunResult> {
  const broker = await startBroker(spec.broker);
  const data = tempDir('ff-bench-');
  const root = { chain: DEFAULT_ROOT.chain, store: `bench-${spec.key}` };
  const spawned = await spawnAll(spec, { MQTT_URL: broker.url, STORE: root.store }, data.path);
  const watcher = await collect(broker.url, [eventTopic(root, 'payment-due')]);
  try {
    if (spawned.failure) throw spawned.failure;
    return await measure(spec, root, spawned.ok, watcher);
  } finally {
    await Promise.all(spawned.all.map((p) => p.stop('SIGTERM')));
    await watcher.close();
    await broker.dispose();
    data.remove();
  }
}

/** The burst, then the steady phases, on started consumers. */
async function measure(spec: RunSpec, root: TopicRoot, started: Started[], watcher: Collector): Promise<RunResult> {
  // Payments tell when a departure is done, when something bills; else the services' counters.
  const pays = spec.consumers.some((c) => c === 'relay' || c === 'fastlane-finale');
  const payments = watchPayments(watcher);
  const ports = started.flatMap((s) => (s.port === undefined ? [] : [s.port]));
  const pids = started.map((s) => s.proc.child.pid!);
  const rssStart = pids.map(rssMb);
  const topic = eventTopic(root, 'customer-departure');
  const departure: Departure = (i, phase) =>
    JSON.stringify({
      event_id: `${phase}-${i}`,
      timestamp: new Date().toISOString(),
      customer_id: 1 + (i % 10),
      product_ids: [0, 1, 2].map((k) => spreadProductId(i, k, spec.catalogSize)),
    });
  let handled = 0;
  const done = async (count: number) => {
    if (pays) await waitUntil(() => payments.counts.phase >= count, `${count} payments`, WAIT_MS);
    await drained(ports, handled + count);
    handled += count;
  };

  const peaks = sampleRssPeaks(pids);
  const cpu0 = pids.map(cpuSeconds);
  const t0 = performance.now();
  await publishBurst(watcher, topic, spec.count, departure);
  await done(spec.count);
  const elapsed = performance.now() - t0;
  const cpu = pids.map((pid, i) => cpuSeconds(pid) - cpu0[i]!);
  const rssBurst = pids.map(rssMb);

  const steady = await steadyPhases(spec.rates, {
    publish: (i, phase) => {
      payments.sentAt.set(`${phase}-${i}`, performance.now());
      watcher.client.publish(topic, departure(i, phase), { qos: 1 });
    },
    reset: payments.newPhase,
    done,
    latencies: () => payments.latencies,
  });
  const peak = peaks.stop();
  const healths = await Promise.all(
    started.map((s) => (s.port === undefined ? Promise.resolve(undefined) : health(s.port))),
  );
  return {
    spec,
    perS: Math.round(spec.count / (elapsed / 1000)),
    steady,
    pays,
    departures: spec.count + spec.rates.reduce((sum, rate) => sum + rate * RATE_SECONDS, 0),
    paidTotal: payments.counts.total,
    paidUnique: payments.departures.size,
    procs: started.map((s, i) => ({
      name: s.proc.name,
      startMs: Math.round(s.startMs),
      rssStartMb: rssStart[i]!,
      rssBurstMb: rssBurst[i]!,
      rssPeakMb: peak.get(pids[i]!) ?? 0,
      cpuUsPerDeparture: Math.round((cpu[i]! * 1e6) / spec.count),
      health: healths[i],
    })),
  };
}
