/**
 * Throughput, latency, memory and CPU of departure → payment-due (and inventory) through a
 * Mosquitto started from broker/mosquitto.conf on a free loopback port, each run with a broker
 * of its own, all in one invocation so that every rate reads as a share of the bare relay's
 * (scripts/relay.ts: nothing stored), what the broker and MQTT.js allow on this machine now:
 *
 *   - the candidates: the relay, fastlane-finale alone, inventory-intel alone, and both consuming
 *     the same departures (DB_SYNCHRONOUS full, and normal): a burst, then steady rates;
 *   - the same through the store's embedded broker (aedes), with its own relay;
 *   - the in-flight sweep: fastlane-finale alone (full) at each MAX_IN_FLIGHT, a burst each;
 *   - the catalog runs: fastlane-finale and inventory-intel, each alone, with the contract's
 *     catalog and with a generated one of BENCH_CATALOG_SIZE products (CATALOG_FILE): start
 *     time (spawn → /healthz 200), RSS, CPU per departure, departures spread over the catalog;
 *   - the targets, each measured value against its bound, ✓ or ✗;
 *   - first, what one fdatasync costs on this disk (scripts/bench-disk.ts).
 *
 *   pnpm bench
 *
 * Knobs (environment):
 *   BENCH_ONLY           runs to do, comma-separated: relay, fastlane, inventory, both,
 *                        both-normal, embedded, sweep, catalog (default: all). Ratios need
 *                        relay (embedded has a relay of its own).
 *   BENCH_COUNT          departures of each candidate's burst (20000)
 *   BENCH_RATES          steady rates, departures/s, 5 s each (500,2000)
 *   BENCH_SWEEP          MAX_IN_FLIGHT values of the sweep (1,2,4,8,16,32,64,128,256)
 *   BENCH_SWEEP_COUNT    departures of each sweep burst (5000)
 *   BENCH_CATALOG_SIZE   products of the generated catalog (100000)
 *   BENCH_CATALOG_COUNT  departures of each catalog run's burst (10000)
 *   LOG_LEVEL            the services' (info)
 *
 * The services run from dist (`pnpm bench` builds first). Bounded: fixed numbers of
 * departures, every wait capped, everything stopped at the end.
 */
import { tempDir } from '@spectrum-grocers/testkit';
import { writeCatalog } from './bench-catalog.js';
import { measureDiskSync } from './bench-disk.js';
import { printCandidates, printCatalogRuns, printSweep, printTargets } from './bench-report.js';
import { RATE_SECONDS } from './bench-load.js';
import { runBench, type RunResult, type RunSpec } from './bench-run.js';

const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map(Number);
const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const RATES = list('BENCH_RATES', '500,2000');
const SWEEP = list('BENCH_SWEEP', '1,2,4,8,16,32,64,128,256');
const SWEEP_COUNT = Number(process.env.BENCH_SWEEP_COUNT ?? 5000);
const CATALOG_SIZE = Number(process.env.BENCH_CATALOG_SIZE ?? 100_000);
const CATALOG_COUNT = Number(process.env.BENCH_CATALOG_COUNT ?? 10_000);
/** The contract's catalog: products 1–100. */
const CONTRACT_CATALOG = 100;
const ONLY = process.env.BENCH_ONLY?.split(',');
const wanted = (key: string) => !ONLY || ONLY.includes(key);

const both = ['inventory-intel', 'fastlane-finale'] as const;
const candidate = (spec: Omit<RunSpec, 'count' | 'rates' | 'catalogSize'>): RunSpec => ({
  ...spec,
  count: COUNT,
  rates: RATES,
  catalogSize: CONTRACT_CATALOG,
});
const CANDIDATES: readonly RunSpec[] = [
  candidate({ key: 'relay', label: 'bare MQTT.js relay (nothing stored)', consumers: ['relay'] }),
  candidate({ key: 'fastlane', label: 'fastlane-finale alone', sync: 'full', consumers: ['fastlane-finale'] }),
  candidate({ key: 'inventory', label: 'inventory-intel alone', sync: 'full', consumers: ['inventory-intel'] }),
  candidate({ key: 'both', label: 'both, same departures', sync: 'full', consumers: both }),
  candidate({ key: 'both-normal', label: 'both, same departures', sync: 'normal', consumers: both }),
];

/** The same on the store's embedded broker (aedes, `pnpm start`): its own relay, and fastlane-finale with and without a window. */
const EMBEDDED: readonly RunSpec[] = [
  candidate({ key: 'embedded-relay', label: 'bare MQTT.js relay', consumers: ['relay'], broker: 'embedded' }),
  candidate({
    key: 'embedded-fastlane',
    label: 'fastlane-finale alone',
    sync: 'full',
    consumers: ['fastlane-finale'],
    broker: 'embedded',
  }),
  candidate({
    key: 'embedded-fastlane-1',
    label: 'fastlane-finale alone, MAX_IN_FLIGHT=1',
    sync: 'full',
    consumers: ['fastlane-finale'],
    broker: 'embedded',
    env: { MAX_IN_FLIGHT: '1' },
  }),
];

/** fastlane-finale alone (full) at each MAX_IN_FLIGHT: a burst each. */
const sweepSpecs = (): RunSpec[] =>
  SWEEP.map((n) => ({
    key: `sweep-${n}`,
    label: `MAX_IN_FLIGHT=${n}`,
    sync: 'full',
    consumers: ['fastlane-finale'],
    count: SWEEP_COUNT,
    rates: [],
    catalogSize: CONTRACT_CATALOG,
    env: { MAX_IN_FLIGHT: String(n) },
  }));

/** Each catalog consumer alone, with the contract's catalog and with the generated big one. */
const catalogSpecs = (bigFile: string): RunSpec[] =>
  [
    { size: CONTRACT_CATALOG, env: {} as Record<string, string> },
    { size: CATALOG_SIZE, env: { CATALOG_FILE: bigFile } },
  ].flatMap(({ size, env }) =>
    (['fastlane-finale', 'inventory-intel'] as const).map((name): RunSpec => ({
      key: `catalog-${size}-${name}`,
      label: `${name}, ${size.toLocaleString('en')} products`,
      sync: 'full',
      consumers: [name],
      count: CATALOG_COUNT,
      rates: [],
      catalogSize: size,
      env,
    })),
  );

const disk = await measureDiskSync();
const results: RunResult[] = [];
for (const spec of CANDIDATES) if (wanted(spec.key)) results.push(await runBench(spec));
const embedded: RunResult[] = [];
if (wanted('embedded')) for (const spec of EMBEDDED) embedded.push(await runBench(spec));
const sweep: RunResult[] = [];
if (wanted('sweep')) for (const spec of sweepSpecs()) sweep.push(await runBench(spec));
const catalogRuns: RunResult[] = [];
if (wanted('catalog')) {
  const dir = tempDir('ff-bench-catalog-');
  try {
    for (const spec of catalogSpecs(writeCatalog(dir.path, CATALOG_SIZE))) catalogRuns.push(await runBench(spec));
  } finally {
    dir.remove();
  }
}

const relay = results.find((r) => r.spec.key === 'relay');
console.log(`\nFresh Frontier benchmark, ${new Date().toISOString()}`);
console.log(
  `The disk: fdatasync of a 4 KB append takes ${disk.p50} ms at p50, ${disk.p99} ms at p99, ${disk.max} ms at most ` +
    '(300 in a row, before the runs); a departure waits for up to two.',
);
if (results.length > 0) {
  console.log(
    `\n${COUNT} departures (3 products each) through Mosquitto, then ${RATES.join(' and ')}/s for ` +
      `${RATE_SECONDS} s each; latency is departure → payment-due; RSS after the burst (peak)`,
  );
  printCandidates(results, relay, RATES);
}
if (embedded.length > 0) {
  console.log(`\nThe same through the embedded broker (aedes in a process of its own, as \`pnpm start\` runs it)`);
  printCandidates(
    embedded,
    embedded.find((r) => r.spec.key === 'embedded-relay'),
    RATES,
  );
}
if (sweep.length > 0) {
  console.log(`\nIn-flight sweep: fastlane-finale alone, DB_SYNCHRONOUS=full, a burst of ${SWEEP_COUNT} each`);
  printSweep(sweep, relay);
}
if (catalogRuns.length > 0) {
  console.log(
    `\nCatalog size: each service alone (full), a burst of ${CATALOG_COUNT} departures over the whole catalog`,
  );
  printCatalogRuns(catalogRuns);
}
console.log('\nTargets');
printTargets([...results, ...sweep, ...catalogRuns], relay);
