import { Gauge } from 'prom-client';
import { createMetrics, type Bus, type Metrics } from '@spectrum-grocers/runtime';

/** The two ways messages travel: up to HQ, down into the store. */
export type Direction = 'up' | 'down';

export interface UplinkSources {
  readonly store: Bus;
  readonly hq: Bus;
  /** Outbox rows not yet acknowledged by the broker they go to, read when scraped. */
  backlog(direction: Direction): number;
}

/**
 * Every process's metrics (ff_events_in_total and ff_events_out_total by topic, the batches, the
 * store broker's connection), and what only the uplink has: HQ's connection beside the store's,
 * and the backlog each way, the first thing to look at when HQ is unreachable.
 */
export function createUplinkMetrics(service: string, sources: UplinkSources): Metrics {
  const metrics = createMetrics(service, { bus: sources.store });
  new Gauge({
    name: 'ff_uplink_backlog',
    help: 'Messages committed for forwarding and not yet acknowledged where they go, by direction (up: to HQ)',
    labelNames: ['direction'],
    registers: [metrics.registry],
    collect() {
      for (const direction of ['up', 'down'] as const) this.set({ direction }, sources.backlog(direction));
    },
  });
  new Gauge({
    name: 'ff_uplink_connected',
    help: "1 while connected to that side's broker (store or hq)",
    labelNames: ['side'],
    registers: [metrics.registry],
    collect() {
      this.set({ side: 'store' }, sources.store.isConnected() ? 1 : 0);
      this.set({ side: 'hq' }, sources.hq.isConnected() ? 1 : 0);
    },
  });
  return metrics;
}
