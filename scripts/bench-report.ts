/** The tables `pnpm bench` prints: candidates, the in-flight sweep, the catalog runs, the targets. */
import type { ProcResult, RunResult } from './bench-run.js';

const ratio = (r: RunResult, relay: RunResult | undefined) => (relay ? `${(r.perS / relay.perS).toFixed(2)}×` : '—');

export function printCandidates(results: readonly RunResult[], relay: RunResult | undefined, rates: readonly number[]) {
  console.table(
    results.map((r) => ({
      candidate: r.spec.label,
      sync: r.spec.sync ?? '—',
      'departures/s': r.perS,
      'vs relay': ratio(r, relay),
      ...Object.fromEntries(
        rates.map((rate) => [
          `p50 / p99 ms at ${rate}/s`,
          r.pays ? `${r.steady[rate]!.p50} / ${r.steady[rate]!.p99}` : '—',
        ]),
      ),
      'RSS MB': r.procs.map((p) => `${p.name.split('-')[0]} ${p.rssBurstMb} (${p.rssPeakMb})`).join(' + '),
    })),
  );
}

export function printSweep(results: readonly RunResult[], relay: RunResult | undefined) {
  console.table(
    results.map((r) => {
      const h = r.procs[0]?.health;
      return {
        MAX_IN_FLIGHT: r.spec.env?.MAX_IN_FLIGHT ?? '—',
        'departures/s': r.perS,
        'vs relay': ratio(r, relay),
        'largest batch': h?.largestBatch ?? '—',
        'messages/commit': h?.batches ? (h.handled / h.batches).toFixed(1) : '—',
        'CPU µs/departure': r.procs[0]?.cpuUsPerDeparture ?? '—',
      };
    }),
  );
}

export function printCatalogRuns(results: readonly RunResult[]) {
  console.table(
    results.map((r) => {
      const p = r.procs[0]!;
      return {
        run: r.spec.label,
        'start ms': p.startMs,
        'RSS MB after start': p.rssStartMb,
        'after burst': p.rssBurstMb,
        peak: p.rssPeakMb,
        'CPU µs/departure': p.cpuUsPerDeparture,
        'departures/s': r.perS,
      };
    }),
  );
}

interface Target {
  target: string;
  measured: string;
  bound: string;
  ok: boolean | undefined;
}

const mark = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? '✓' : '✗');

function rateTarget(r: RunResult | undefined, relay: RunResult | undefined, what: string, min: number): Target {
  const share = r && relay ? r.perS / relay.perS : undefined;
  return {
    target: `${what}: departures/s vs relay`,
    measured: share === undefined ? '—' : `${share.toFixed(2)}× (${r!.perS}/s)`,
    bound: `≥ ${min}×`,
    ok: share === undefined ? undefined : share >= min,
  };
}

/** Both (full): every departure billed once and taken off the shelves once, by the counters. */
function completeTarget(r: RunResult | undefined): Target {
  const handled = (name: string) => r?.procs.find((p) => p.name === name)?.health?.handled;
  if (!r) return { target: 'both (full): every departure billed and stocked', measured: '—', bound: '', ok: undefined };
  const counts = {
    billed: handled('fastlane-finale'),
    stocked: handled('inventory-intel'),
    paid: r.paidUnique,
    messages: r.paidTotal,
  };
  return {
    target: 'both (full): every departure billed and stocked',
    measured:
      `${r.departures} departures: fastlane handled ${counts.billed}, inventory ${counts.stocked}, ` +
      `payments ${counts.paid} (${counts.messages} messages)`,
    bound: 'all equal',
    ok: Object.values(counts).every((n) => n === r.departures),
  };
}

function latencyTargets(r: RunResult | undefined): Target[] {
  const at = r?.steady[2000];
  return [
    { p: 'p50' as const, max: 2 },
    { p: 'p99' as const, max: 5 },
  ].map(({ p, max }) => ({
    target: `fastlane alone (full) ${p} at 2,000/s`,
    measured: at ? `${at[p]} ms` : '—',
    bound: `≤ ${max} ms`,
    ok: at ? at[p] <= max : undefined,
  }));
}

/** The largest RSS sampled of each service across every run, against 120 MB. */
function rssTargets(all: readonly RunResult[]): Target[] {
  const worst = new Map<string, { proc: ProcResult; run: string }>();
  for (const r of all) {
    for (const proc of r.procs) {
      if (proc.name === 'relay') continue;
      if ((worst.get(proc.name)?.proc.rssPeakMb ?? -1) < proc.rssPeakMb)
        worst.set(proc.name, { proc, run: r.spec.label });
    }
  }
  return [...worst].map(([name, { proc, run }]) => ({
    target: `${name}: RSS peak under load`,
    measured: `${proc.rssPeakMb} MB (${run})`,
    bound: '≤ 120 MB',
    ok: proc.rssPeakMb <= 120,
  }));
}

export function printTargets(all: readonly RunResult[], relay: RunResult | undefined) {
  const byKey = (key: string) => all.find((r) => r.spec.key === key);
  const targets = [
    rateTarget(byKey('fastlane'), relay, 'fastlane alone (full)', 0.5),
    rateTarget(byKey('inventory'), relay, 'inventory alone (full)', 0.5),
    rateTarget(byKey('both'), relay, 'both (full)', 0.35),
    completeTarget(byKey('both')),
    ...latencyTargets(byKey('fastlane')),
    ...rssTargets(all),
  ];
  console.table(targets.map((t) => ({ what: t.target, measured: t.measured, target: t.bound, '✓/✗': mark(t.ok) })));
}
