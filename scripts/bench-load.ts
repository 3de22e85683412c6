/**
 * The load `pnpm bench` puts on a store: a burst with many departures in flight, steady rates
 * with each departure timed to its payment, and the payments the watcher sees.
 */
import type { Collector } from '@spectrum-grocers/testkit';

/** Departures in flight to the broker at once during a burst. */
const WINDOW = 1000;
/** How long each steady rate runs. */
export const RATE_SECONDS = 5;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The payments the watcher sees: how many in all and in this phase, of which departures, how late. */
export function watchPayments(watcher: Collector) {
  const sentAt = new Map<string, number>();
  const departures = new Set<string>();
  const latencies: number[] = [];
  const counts = { phase: 0, total: 0 };
  watcher.client.on('message', (_topic, payload) => {
    counts.phase++;
    counts.total++;
    const id = (JSON.parse(payload.toString()) as { departure_event_id: string }).departure_event_id;
    departures.add(id);
    const t0 = sentAt.get(id);
    if (t0 !== undefined) latencies.push(performance.now() - t0);
  });
  return {
    sentAt,
    departures,
    latencies,
    counts,
    newPhase: () => {
      counts.phase = 0;
      latencies.length = 0;
    },
  };
}

/** Publish `count` departures as fast as the broker acknowledges them, WINDOW in flight. */
export async function publishBurst(
  watcher: Collector,
  topic: string,
  count: number,
  departure: Departure,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < count) await watcher.client.publishAsync(topic, departure(next++, 'burst'), { qos: 1 });
    }),
  );
}

export type Departure = (i: number, phase: string) => string;

interface SteadyIo {
  publish(i: number, phase: string): void;
  reset(): void;
  done(count: number): Promise<void>;
  latencies(): number[];
}

/** Latency: each steady rate for RATE_SECONDS, each departure timed to its payment. */
export async function steadyPhases(rates: readonly number[], io: SteadyIo) {
  const steady: Record<number, { p50: number; p99: number }> = {};
  for (const rate of rates) {
    io.reset();
    const total = rate * RATE_SECONDS;
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      io.publish(i, `steady${rate}`);
    }
    await io.done(total);
    const sorted = io.latencies().sort((a, b) => a - b);
    steady[rate] = { p50: +percentile(sorted, 50).toFixed(2), p99: +percentile(sorted, 99).toFixed(2) };
  }
  return steady;
}
