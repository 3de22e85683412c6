import { connectBus, type Bus } from './bus.js';
import { loadConfig, type BaseConfig } from './config.js';
import { createConsumer, type ConsumerStats, type Routes } from './consumer.js';
import { startHttpServer, type HttpServer, type Route, type StreamRoute } from './http.js';
import { untilSignal } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createOutbox, type Outbox } from './outbox.js';
import { openDatabase, type Db } from './store.js';

/** A running service: what `main` holds on to until a signal, then `stop()`s. */
export interface RunningService {
  readonly bus: Bus;
  readonly db: Db;
  readonly outbox: Outbox;
  readonly http: HttpServer;
  readonly metrics: Metrics;
  /** Counters of the consumer, when the service consumes events. */
  readonly stats: Readonly<ConsumerStats> | undefined;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** The service's own tables (CREATE ... IF NOT EXISTS). */
  schema?: string;
  /** Handlers of the events it consumes; none for a service that only publishes. */
  routes?: (db: Db) => Routes;
  /** HTTP routes besides /healthz. */
  httpRoutes?: (ctx: { db: Db; bus: Bus; outbox: Outbox }) => Record<string, Route>;
  /** GET routes that stream (Server-Sent Events). */
  httpStreams?: Record<string, StreamRoute>;
  /** Settles when the service is asked to stop; a start still waiting for the broker gives up. */
  stopping?: Promise<unknown>;
}

/**
 * Every service's runtime: its SQLite store with the outbox (what it publishes is committed
 * there first), the broker connection, idempotent handling of what it consumes, and an HTTP
 * server with /healthz (200 once connected and subscribed).
 */
export async function startService(config: BaseConfig, log: Logger, opts: ServiceOptions): Promise<RunningService> {
  const db = openDatabase(config, opts.schema);
  const bus = connectBus(config, log);
  const metrics = createMetrics(config.service, {
    bus,
    // Read when scraped, by then the outbox exists.
    outboxPending: () => (db.open ? outbox.pendingCount() : 0),
  });
  const outbox = createOutbox(db, bus, log);
  outbox.onPublished((topic) => metrics.eventsOut.inc({ topic }));
  const consumer = opts.routes && createConsumer({ bus, db, outbox, log, routes: opts.routes(db), metrics });
  /** Undo a start that failed half-way, whichever step it failed at. */
  const abandon = async (err: unknown, http?: HttpServer): Promise<never> => {
    await http?.close();
    outbox.stop();
    await bus.close(config.shutdownTimeoutMs);
    db.close();
    throw err;
  };
  const http = await startHttpServer(config, log, {
    routes: {
      ...opts.httpRoutes?.({ db, bus, outbox }),
      'GET /metrics': metrics.route,
    },
    streams: opts.httpStreams,
    healthy: () => {
      const connected = bus.isConnected();
      // A consumer without its subscriptions hears nothing: not healthy, however connected.
      const subscribed = consumer === undefined || bus.isSubscribed();
      return {
        ok: connected && subscribed && !bus.isClosing(),
        detail: {
          service: config.service,
          connected,
          ...(consumer && { subscribed }),
          ...consumer?.stats,
          outboxPending: outbox.pendingCount(),
        },
      };
    },
  }).catch((err: unknown) => abandon(err));
  if (consumer) {
    // A stop asked for while we wait to subscribe ends the wait (bus.pause) and the start.
    const abort = () => void bus.pause();
    opts.stopping?.then(abort, abort);
    await consumer.start().catch((err: unknown) => abandon(err, http));
  } else {
    outbox.kick();
  }
  return {
    bus,
    db,
    http,
    outbox,
    metrics,
    stats: consumer?.stats,
    /** Stop within SHUTDOWN_TIMEOUT_MS in all, however slow the broker is. */
    async stop() {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      await http.close();
      await bus.pause();
      // Publish what is committed before saying goodbye (with at most half the budget); what
      // is left stays in the outbox and goes out at the next start.
      if (!(await outbox.drain(config.shutdownTimeoutMs / 2))) {
        log.warn({ pending: outbox.pendingCount() }, 'outbox not drained');
      }
      outbox.stop();
      await bus.close(Math.max(1, deadline - Date.now()));
      db.close();
    },
  };
}

export interface ConsumerSpec {
  service: string;
  defaultHttpPort: number;
  /** The service's own tables (CREATE ... IF NOT EXISTS). */
  schema: string;
  /** Seed the store if needed and return the handlers, one per consumed event. */
  routes: (ctx: { db: Db; config: BaseConfig; log: Logger }) => Routes;
  /** Extra HTTP routes, e.g. a read-only view of the service's state. */
  httpRoutes?: (db: Db) => Record<string, Route>;
  /** GET routes that stream (Server-Sent Events). */
  httpStreams?: Record<string, StreamRoute>;
  /** Called once the service runs (connected and subscribed). */
  started?: (service: RunningService, log: Logger) => void;
}

/** A consuming service's whole life: config, store, subscriptions, and a graceful stop on SIGTERM/SIGINT. */
export async function runConsumer(spec: ConsumerSpec, onStopping: () => void): Promise<void> {
  const config = loadConfig(spec.service, { defaultHttpPort: spec.defaultHttpPort });
  const log = createLogger(config);
  // Watched from the very start: a stop during start-up must not wait for the broker.
  const signalled = untilSignal(log, { exitOnStdinClose: config.exitOnStdinClose, dataDir: config.dataDir });
  let stopAsked = false;
  void signalled.then(() => (stopAsked = true));
  let service: RunningService;
  try {
    service = await startService(config, log, {
      schema: spec.schema,
      routes: (db) => spec.routes({ db, config, log }),
      httpRoutes: spec.httpRoutes && (({ db }) => spec.httpRoutes!(db)),
      httpStreams: spec.httpStreams,
      stopping: signalled,
    });
  } catch (err) {
    if (stopAsked) return; // stopped while starting: a clean exit
    throw err;
  }
  spec.started?.(service, log);
  try {
    await Promise.race([signalled, service.bus.failed]);
  } finally {
    onStopping();
    await service.stop();
  }
}
