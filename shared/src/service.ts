import { connectBus, type Bus } from './bus.js';
import { loadConfig, type BaseConfig } from './config.js';
import { createConsumer, type ConsumerStats, type Routes } from './consumer.js';
import { startHttpServer, type HttpServer, type Route } from './http.js';
import { untilSignal } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { createOutbox, type Outbox } from './outbox.js';
import { openDatabase, type Db } from './store.js';

/** A running service: what `main` holds on to until a signal, then `stop()`s. */
export interface RunningService {
  readonly bus: Bus;
  readonly http: HttpServer;
  stop(): Promise<void>;
}

export interface ConsumingService extends RunningService {
  readonly db: Db;
  readonly outbox: Outbox;
  readonly stats: Readonly<ConsumerStats>;
}

function health(bus: Bus, subscribed: () => boolean, extra: () => Record<string, unknown>) {
  return () => {
    const connected = bus.isConnected();
    const ok = connected && subscribed() && !bus.isClosing();
    return { ok, detail: { service: bus.config.service, connected, ...extra() } };
  };
}

/**
 * A service that consumes events: SQLite store with the outbox, idempotent handling,
 * subscriptions from the routes, and an HTTP server for health (and `routes`).
 */
export async function startConsumingService(
  config: BaseConfig,
  log: Logger,
  opts: { schema: string; routes: (db: Db) => Routes; httpRoutes?: (db: Db) => Record<string, Route> },
): Promise<ConsumingService> {
  const db = openDatabase(config, opts.schema);
  const bus = connectBus(config, log);
  const outbox = createOutbox(db, bus, log);
  const consumer = createConsumer({ bus, db, outbox, log, routes: opts.routes(db) });
  let subscribed = false;
  const http = await startHttpServer(config, log, {
    routes: opts.httpRoutes?.(db),
    healthy: health(
      bus,
      () => subscribed,
      () => ({ ...consumer.stats, outboxPending: outbox.pendingCount() }),
    ),
  }).catch(async (err: unknown) => {
    await bus.client.endAsync(true);
    db.close();
    throw err;
  });
  await consumer.start();
  subscribed = true;
  return {
    bus,
    db,
    http,
    outbox,
    stats: consumer.stats,
    async stop() {
      await http.close();
      await bus.pause();
      // Publish what the last handlers committed before saying goodbye; what is left
      // stays in the outbox and goes out at the next start.
      if (!(await outbox.drain(config.shutdownTimeoutMs)))
        log.warn({ pending: outbox.pendingCount() }, 'outbox not drained');
      outbox.stop();
      await bus.close();
      db.close();
    },
  };
}

/** A service that only publishes (the gates): a connection and an HTTP server. */
export async function startPublishingService(
  config: BaseConfig,
  log: Logger,
  opts: { httpRoutes: (bus: Bus) => Record<string, Route> },
): Promise<RunningService> {
  const bus = connectBus(config, log);
  const http = await startHttpServer(config, log, {
    routes: opts.httpRoutes(bus),
    healthy: health(
      bus,
      () => true,
      () => ({}),
    ),
  }).catch(async (err: unknown) => {
    await bus.client.endAsync(true);
    throw err;
  });
  return {
    bus,
    http,
    async stop() {
      await http.close();
      await bus.close();
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
}

/** A consuming service's whole life: config, store, subscriptions, and a graceful stop on SIGTERM/SIGINT. */
export async function runConsumer(spec: ConsumerSpec, onStopping: () => void): Promise<void> {
  const config = loadConfig(spec.service, { defaultHttpPort: spec.defaultHttpPort });
  const log = createLogger(config);
  const service = await startConsumingService(config, log, {
    schema: spec.schema,
    routes: (db) => spec.routes({ db, config, log }),
    httpRoutes: spec.httpRoutes,
  });
  try {
    await untilSignal(log, { exitOnStdinClose: config.exitOnStdinClose });
  } finally {
    onStopping();
    await service.stop();
  }
}
