import type { z } from 'zod';
import {
  AppError,
  publicationsOf,
  isService,
  storeFilter,
  subscriptionsOf,
  type EventName,
  type ProcessName,
  type PublishedBy,
  type ServiceName,
} from '@spectrum-grocers/contract';
import { connectBus, type Bus, type Delivery } from './bus.js';
import { loadConfig, type Config } from './config.js';
import { createCommitter, durabilityOf, type Committer, type Durability } from './commit.js';
import { createConsumer, type ConsumerStats, type Routes } from './consumer.js';
import { startHttpServer, type HttpServer } from './http.js';
import { runMain, untilSignal } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics, type Outcome } from './metrics.js';
import { createOutbox, type Outbox } from './outbox.js';
import type { HttpRoute } from './routes.js';
import { openDatabase, type Db } from './store.js';
import { entryPackageVersion } from './version.js';

type NoOptions = z.ZodObject<Record<string, never>>;

/** What a service's parts are built from, once its store and broker connection exist. */
export interface ServiceContext<O extends z.ZodObject = NoOptions> {
  readonly config: Config<O>;
  readonly log: Logger;
  readonly db: Db;
  readonly bus: Bus;
  readonly outbox: Outbox;
  /**
   * Group commit for writes outside the consumer (HTTP requests): concurrent ones share one
   * transaction and one sync, and each resolves once it is on disk.
   */
  readonly commits: Committer;
}

/** A read-only watcher's handling of one message on the store's topics; never throws. */
export type Observer = (topic: string, payload: Buffer) => Exclude<Outcome, 'dead_letter'>;

type Publishes<S extends ProcessName> = S extends ServiceName ? PublishedBy<S> : never;

/**
 * One process of the store: a consumer (`consumes`), a gate (publishes from HTTP and its
 * sensor), or a read-only observer of every topic (`observes`, the control room). The catalog
 * decides what each may consume and publish; a spec that disagrees does not build, or does not
 * start (CONTRACT_MISMATCH).
 */
export interface ServiceSpec<S extends ProcessName, O extends z.ZodObject = NoOptions> {
  service: S;
  /** Its own variables, beside every service's (BaseEnv). */
  env?: O;
  /** Its own tables (CREATE … IF NOT EXISTS). */
  schema?: string;
  /** Moves an earlier version's tables to today's shape, before `schema` runs. */
  migrate?: (db: Db) => void;
  /** The events it publishes: exactly the catalog's. */
  publishes?: readonly Publishes<S>[];
  /** One handler per event it consumes: exactly the catalog's. */
  consumes?: S extends ServiceName ? (ctx: ServiceContext<O>) => Routes<S> : never;
  /** Everything on the store's topics, read-only: no status of its own, no last will, nothing published. */
  observes?: (ctx: ServiceContext<O>) => Observer;
  /**
   * Its HTTP routes (`route`, `textRoute`, an SseHub's `route`) besides /healthz, /metrics and
   * /openapi.json; the OpenAPI document is generated from them.
   */
  http?: (ctx: ServiceContext<O>) => readonly HttpRoute[];
  /** The OpenAPI document's version: by default its package's (the entry script's package.json). */
  version?: string;
  /** More to say in /healthz. */
  health?: (ctx: ServiceContext<O>) => Record<string, unknown>;
  /** Work of its own while it runs (a simulated sensor), until `signal` aborts. */
  run?: (ctx: ServiceContext<O>, signal: AbortSignal) => Promise<void>;
  /** Once it runs: connected and, when it reads, subscribed. */
  started?: (ctx: ServiceContext<O>) => void;
  /** First thing of a stop, before HTTP and the broker close. */
  stopping?: () => void;
}

/** A started service: what `runService` (or a test) holds on to until it `stop()`s. */
export interface RunningService {
  readonly bus: Bus;
  readonly http: HttpServer;
  readonly metrics: Metrics;
  /** Counters of the consumer, when the service consumes events. */
  readonly stats: Readonly<ConsumerStats> | undefined;
  /** Rejects when the service cannot go on: the broker gave up on it, or its disk failed. */
  readonly failed: Promise<never>;
  stop(): Promise<void>;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === a.length && x.size === y.size && [...x].every((e) => y.has(e));
}

/** Refuse a spec whose events disagree with the topic catalog (code cast past the types, or a stale build). */
export function checkAgainstCatalog(
  service: ProcessName,
  declared: { consumes: readonly string[]; publishes: readonly string[] },
): void {
  const consumes: readonly EventName[] = isService(service) ? subscriptionsOf(service) : [];
  const publishes: readonly EventName[] = isService(service) ? publicationsOf(service) : [];
  const problems = [
    ...(sameSet(declared.consumes, consumes)
      ? []
      : [`consumes [${declared.consumes.join(', ')}], the catalog says [${consumes.join(', ')}]`]),
    ...(sameSet(declared.publishes, publishes)
      ? []
      : [`publishes [${declared.publishes.join(', ')}], the catalog says [${publishes.join(', ')}]`]),
  ];
  if (problems.length > 0) throw new AppError('CONTRACT_MISMATCH', `${service} ${problems.join('; ')}`);
}

/**
 * Start a process of the store: its SQLite store with the outbox (what it publishes is
 * committed there first), the broker connection, idempotent handling of what it consumes (or a
 * read-only watch of every topic), and an HTTP server with /healthz (200 once connected and,
 * when it reads, subscribed) and /metrics.
 */
export async function startService<S extends ProcessName, O extends z.ZodObject>(
  spec: ServiceSpec<S, O>,
  config: Config<O>,
  log: Logger,
  /** Settles when the service is asked to stop: a start still waiting for the broker gives up. */
  stopping?: Promise<unknown>,
): Promise<RunningService> {
  const publishes: readonly EventName[] = spec.publishes ?? [];
  const db = openDatabase(config, spec.schema, spec.migrate);
  const durability = durabilityOf(db, config.dbSynchronous);
  const bus = connectBus(config, log, { announce: spec.observes === undefined });
  const outbox = createOutbox(db, bus, log, publishes, durability);
  const commits = createCommitter(db, durability);
  const ctx: ServiceContext<O> = { config, log, db, bus, outbox, commits };
  const failed = Promise.race([bus.failed, durability.failed]);
  failed.catch(() => undefined); // observed by runService
  // An observer publishes nothing: no outbox gauge for it.
  const outboxPending = spec.observes ? undefined : () => (db.open ? outbox.pendingCount() : 0);
  const metrics = createMetrics(config.service, { bus, outboxPending });
  outbox.onPublished((topic) => metrics.eventsOut.inc({ topic }));
  /** Undo a start that failed half-way, whichever step it failed at. */
  const abandon = async (err: unknown, http?: HttpServer): Promise<never> => {
    await http?.close();
    outbox.stop();
    await bus.close(config.shutdownTimeoutMs);
    await durability.close();
    db.close();
    throw err;
  };
  let consumer: ReturnType<typeof createConsumer> | undefined;
  let observer: Observer | undefined;
  let routes: readonly HttpRoute[] = [];
  try {
    const handlers = spec.consumes?.(ctx);
    checkAgainstCatalog(config.service as ProcessName, { consumes: Object.keys(handlers ?? {}), publishes });
    consumer = handlers && createConsumer({ bus, db, outbox, log, routes: handlers, metrics, durability });
    observer = spec.observes?.(ctx);
    routes = spec.http?.(ctx) ?? [];
  } catch (err) {
    return abandon(err);
  }
  const reads = consumer !== undefined || observer !== undefined;
  const http = await startHttpServer(config, log, {
    title: config.service,
    version: spec.version ?? entryPackageVersion(),
    routes: [...routes, metrics.route],
    healthy: () => {
      const connected = bus.isConnected();
      // A reader without its subscriptions hears nothing: not healthy, however connected.
      const subscribed = !reads || bus.isSubscribed();
      return {
        ok: connected && subscribed && !bus.isClosing(),
        detail: {
          service: config.service,
          connected,
          ...(reads && { subscribed }),
          ...consumer?.stats,
          ...(observer === undefined && { outboxPending: outbox.pendingCount() }),
          ...spec.health?.(ctx),
        },
      };
    },
  }).catch((err: unknown) => abandon(err));
  // A stop asked for while we wait to subscribe ends the wait (bus.pause) and the start.
  const abort = () => void bus.pause();
  stopping?.then(abort, abort);
  if (consumer) await consumer.start().catch((err: unknown) => abandon(err, http));
  else if (observer)
    await watch(bus, db, durability, config, metrics, observer).catch((err: unknown) => abandon(err, http));
  else outbox.kick();
  spec.started?.(ctx);
  return {
    bus,
    http,
    metrics,
    stats: consumer?.stats,
    failed,
    /** Stop within SHUTDOWN_TIMEOUT_MS in all, however slow the broker is. */
    async stop() {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      await http.close(config.shutdownTimeoutMs / 4);
      await bus.pause();
      // Publish what is committed before saying goodbye (with at most half the budget); what
      // is left stays in the outbox and goes out at the next start.
      if (!(await outbox.drain(config.shutdownTimeoutMs / 2))) {
        log.warn({ pending: outbox.pendingCount() }, 'outbox not drained');
      }
      outbox.stop();
      await bus.close(Math.max(1, deadline - Date.now()));
      await durability.close();
      db.close();
    },
  };
}

/**
 * Subscribe a read-only observer to every topic of the store, counting what it makes of each
 * message; a batch of messages is one transaction of its store.
 */
function watch(
  bus: Bus,
  db: Db,
  durability: Durability,
  config: Config<z.ZodObject>,
  metrics: Metrics,
  observer: Observer,
): Promise<void> {
  const observe = db.transaction((batch: readonly Delivery[]) => batch.map((d) => observer(d.topic, d.payload)));
  return bus.consume(
    [storeFilter(config.topics)],
    async (batch) => {
      const outcomes = observe(batch);
      await durability.durable();
      outcomes.forEach((outcome, i) => metrics.eventsIn.inc({ topic: batch[i]!.topic, outcome }));
    },
    { maxInFlight: config.maxInFlight },
  );
}

/**
 * A process's whole life, as its `main`: config, store, broker, HTTP, its own work, and a
 * graceful stop on SIGTERM/SIGINT (or the launcher gone); exit 1 with one line on a failure.
 */
export function runService<S extends ProcessName, O extends z.ZodObject = NoOptions>(spec: ServiceSpec<S, O>): void {
  runMain(spec.service, async (startWatchdog) => {
    const config = loadConfig(spec.service, { options: spec.env });
    const log = createLogger(config);
    // Watched from the very start: a stop during start-up must not wait for the broker.
    const signalled = untilSignal(log, { exitOnStdinClose: config.exitOnStdinClose, dataDir: config.dataDir });
    let stopAsked = false;
    void signalled.then(() => (stopAsked = true));
    let service: RunningService;
    const work = new AbortController();
    let running: Promise<void> = Promise.resolve();
    try {
      service = await startService(
        {
          ...spec,
          started: (ctx) => {
            spec.started?.(ctx);
            if (spec.run) running = spec.run(ctx, work.signal);
          },
        },
        config,
        log,
        signalled,
      );
    } catch (err) {
      if (stopAsked && !(err instanceof AppError && err.code === 'NOT_AUTHORIZED')) return; // stopped while starting
      throw err;
    }
    try {
      await Promise.race([signalled, service.failed]);
    } finally {
      startWatchdog();
      spec.stopping?.();
      work.abort();
      await running;
      await service.stop();
    }
  });
}
