import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Bus } from './bus.js';
import { z } from 'zod';
import { route, type HttpRoute } from './routes.js';

/** What happened to one consumed message. */
export type Outcome = 'handled' | 'duplicate' | 'dead_letter' | 'ignored';

/** A service's Prometheus metrics (GET /metrics), with `service` on every series. */
export interface Metrics {
  readonly registry: Registry;
  /** Messages consumed, by topic and outcome. */
  readonly eventsIn: Counter<'topic' | 'outcome'>;
  /** Events published and acknowledged by the broker, by topic. */
  readonly eventsOut: Counter<'topic'>;
  /** Time from a batch's hand-over to its commit. */
  readonly batchSeconds: Histogram;
  /** Messages per committed batch. */
  readonly batchMessages: Histogram;
  /** Messages refused and sent to dead-letter, by the topic they came on. */
  readonly deadLetters: Counter<'topic'>;
  /** Connections to the broker made again after one was lost. */
  readonly reconnects: Counter;
  /** `GET /metrics`: the exposition text of every metric. */
  readonly route: HttpRoute;
}

export interface MetricSources {
  /** Its connection state and reconnects are counted from its events. */
  bus: Bus;
  /** Outbox rows the broker has not acknowledged yet, read when scraped. */
  outboxPending?: () => number;
}

export function createMetrics(service: string, sources: MetricSources): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    registry,
    eventsIn: new Counter({
      name: 'ff_events_in_total',
      help: 'Messages consumed, by topic and outcome (handled, duplicate, dead_letter, ignored)',
      labelNames: ['topic', 'outcome'],
      registers: [registry],
    }),
    eventsOut: new Counter({
      name: 'ff_events_out_total',
      help: 'Events published and acknowledged by the broker, by topic',
      labelNames: ['topic'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'ff_batch_duration_seconds',
      help: 'Time to handle and commit one batch of consumed messages (one transaction, one fsync)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    batchMessages: new Histogram({
      name: 'ff_batch_messages',
      help: 'Messages per committed batch (at most MAX_IN_FLIGHT)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'ff_dead_letters_total',
      help: 'Messages refused and sent to dead-letter, by the topic they came on',
      labelNames: ['topic'],
      registers: [registry],
    }),
    reconnects: new Counter({
      name: 'ff_broker_reconnects_total',
      help: 'Connections to the broker made again after one was lost',
      registers: [registry],
    }),
    route: route({
      method: 'GET',
      path: '/metrics',
      summary: 'Prometheus metrics of the service (text exposition format)',
      produces: registry.contentType,
      responses: { 200: z.string() },
      handler: async () => ({ status: 200, body: await registry.metrics() }),
    }),
  };
  let connections = 0;
  sources.bus.onConnection((up) => {
    if (up && ++connections > 1) metrics.reconnects.inc();
  });
  new Gauge({
    name: 'ff_broker_connected',
    help: '1 while connected to the broker',
    registers: [registry],
    collect() {
      this.set(sources.bus.isConnected() ? 1 : 0);
    },
  });
  const pending = sources.outboxPending;
  if (pending) {
    new Gauge({
      name: 'ff_outbox_pending',
      help: 'Outbox events not yet acknowledged by the broker',
      registers: [registry],
      collect() {
        this.set(pending());
      },
    });
  }
  return metrics;
}
