import { hostname } from 'node:os';
import { z } from 'zod';
import { ALL_STORES, toAppError, type ConsumedBy, type HqServiceName } from '@spectrum-grocers/contract';
import {
  connectBus,
  createLogger,
  createMetrics,
  entryPackageVersion,
  envBrokerUrls,
  envPositiveInt,
  loadConfig,
  runMain,
  startHttpServer,
  untilSignal,
  type Bus,
  type Config,
  type HttpRoute,
  type Logger,
} from '@spectrum-grocers/runtime';
import { createPool, migrate, type Pool } from './db.js';
import { createIntake } from './intake.js';
import { createLeases } from './leases.js';
import { createHqOutbox } from './outbox.js';
import { createProcessor, INBOX_CHANNEL, type HqHandler } from './processor.js';

/** The intake's sessions at HQ, by client id suffix: `{chain}-hq-{service}` and its twin. */
const INTAKE_SESSIONS = ['', '-twin'];

/** What every head-office service reads besides the runtime's variables. */
export const HqEnv = z.object({
  /** The head office's PostgreSQL, e.g. postgres://hq@db:5432/hq. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// URL'),
  /** Every node of the chain's broker, comma-separated; MQTT_URL (one node) when unset. */
  MQTT_SERVERS: envBrokerUrls.optional(),
  /** This replica's name, unique among the service's replicas: its connections say it. */
  REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (at most 64)')
    .default(`${hostname()}-${process.pid}`),
  /** How often a replica looks for stores to take over and work that is due. */
  STORE_CHECK_MS: envPositiveInt.default(1000),
});

type NoOptions = z.ZodObject<Record<string, never>>;

/** A replica's configuration: the runtime's, HqEnv's and the service's own variables. */
export type HqConfig<O extends z.ZodObject = NoOptions> = Config & {
  options: z.output<typeof HqEnv> & z.output<O>;
};

export interface HqContext<O extends z.ZodObject = NoOptions> {
  readonly config: HqConfig<O>;
  readonly log: Logger;
  readonly pool: Pool;
}

export interface HqServiceSpec<S extends HqServiceName, O extends z.ZodObject = NoOptions> {
  service: S;
  /** Its own variables, beside HqEnv's. */
  env?: O;
  /** Its own tables (CREATE … IF NOT EXISTS), created with the runtime's. */
  schema?: string;
  consumes: (ctx: HqContext<O>) => { readonly [E in ConsumedBy<S>]: HqHandler<E> };
  /**
   * Topics every replica also reads as they come, each for itself (`{chain}/+/status/+`: which
   * stores and services are online): what is retained there arrives again at each connection.
   */
  watches?: (ctx: HqContext<O>) => { filters: readonly string[]; onMessage(topic: string, payload: Buffer): void };
  http?: (ctx: HqContext<O>) => readonly HttpRoute[];
}

export interface RunningHq {
  readonly replica: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * One replica of a head-office service. The replicas of a service share its work through
 * PostgreSQL: one holds the intake (the service's persistent session at HQ, every store's events
 * into the inbox); each processes the stores it holds, a fair share of all, taking over those of
 * a replica that died at its next look (STORE_CHECK_MS).
 */
export async function startHqService<S extends HqServiceName, O extends z.ZodObject = NoOptions>(
  spec: HqServiceSpec<S, O>,
  config: HqConfig<O>,
  log: Logger,
): Promise<RunningHq> {
  const { service } = spec;
  const { DATABASE_URL: url, REPLICA_ID: replica, STORE_CHECK_MS: checkMs } = config.options;
  const servers = config.options.MQTT_SERVERS ?? [config.mqtt.url];
  const chain = config.topics.chain;
  const pool = createPool(url, `hq:${service}:${replica}`);
  await migrate(pool, spec.schema);
  const ctx: HqContext<O> = { config, log, pool };
  const routes = spec.consumes(ctx);
  const filters = Object.keys(routes).map((event) => `${chain}/+/${event}`);
  // A NATS node refuses a QoS 1 subscription for a moment after a failover: ask again meanwhile.
  // `from`: which node it tries first, so that two sessions start on different nodes.
  const busFor = (clientId: string, clean = false, from = 0): Bus => {
    const order = [...servers.slice(from % servers.length), ...servers.slice(0, from % servers.length)];
    return connectBus({ ...config, mqtt: { ...config.mqtt, url: order[0]!, clientId } }, log, {
      announce: false,
      servers: order,
      clean,
      refusalGraceMs: 30_000,
    });
  };
  // Named after the replica, which a restart may rename: a clean session, so none is left behind.
  const publisher = busFor(`${chain}-hq-${service}-${replica}`, true);
  const watcher = spec.watches?.(ctx);
  if (watcher) {
    void publisher
      .consume(
        watcher.filters,
        (batch) => {
          for (const d of batch) watcher.onMessage(d.topic, d.payload);
          return Promise.resolve();
        },
        { maxInFlight: config.maxInFlight },
      )
      .catch((err: unknown) => log.error({ err: toAppError(err) }, 'could not watch ' + watcher.filters.join(', ')));
  }
  const outbox = createHqOutbox({ pool, bus: publisher, service, log });
  const processor = createProcessor({ pool, service, chain, routes, log });
  const leases = createLeases({ url, service, channel: INBOX_CHANNEL, log });

  const owned = new Set<string>();
  let intake: { buses: Bus[]; taken: () => number } | undefined;
  let stopped = false;

  function letGo(): void {
    owned.clear();
    const buses = intake?.buses ?? [];
    intake = undefined;
    // Another replica takes the sessions over: ours must not hold them meanwhile.
    for (const bus of buses) void bus.close(config.shutdownTimeoutMs);
  }
  leases.onLost(letGo);

  /**
   * Two sessions read the same events, each from its own node first; the inbox keeps one copy
   * of each. A NATS 2.9 session misses messages when a node is killed or comes back (up to 413
   * of ~2,100 in the bridge test, in 6 runs of 9, never the same ones as the other session): an
   * event is lost only if both miss it.
   */
  async function takeIntake(): Promise<void> {
    if (intake || !(await leases.takeIntake())) return;
    const sessions = INTAKE_SESSIONS.map((suffix, i) => {
      const bus = busFor(`${chain}-hq-${service}${suffix}`, false, i);
      const taker = createIntake({
        pool,
        bus,
        service,
        channel: INBOX_CHANNEL,
        log,
        maxPayloadBytes: config.maxPayloadBytes,
      });
      // A session that cannot go on (refused, its client id taken): the intake is given up, for
      // this replica or another to take afresh, rather than held with a dead session.
      const giveUp = (err: unknown) => {
        if (stopped || intake?.buses.includes(bus) !== true) return;
        log.error({ err: toAppError(err) }, 'an intake session stopped; giving the intake up');
        void giveUpIntake();
      };
      taker.start(filters, config.maxInFlight).catch(giveUp);
      bus.failed.catch(giveUp);
      return { bus, taker };
    });
    intake = {
      buses: sessions.map((s) => s.bus),
      taken: () => sessions.reduce((n, s) => n + s.taker.taken, 0),
    };
    log.info({ replica }, `took the intake of ${service}`);
  }

  async function giveUpIntake(): Promise<void> {
    const buses = intake?.buses ?? [];
    intake = undefined;
    await Promise.all(buses.map((b) => b.close(config.shutdownTimeoutMs)));
    await leases.releaseIntake().catch(() => undefined);
  }

  async function balanceStores(): Promise<void> {
    const known = await pool.query<{ store: string }>('SELECT store FROM hq_stores WHERE service = $1 ORDER BY store', [
      service,
    ]);
    const stores = known.rows.map((r) => r.store);
    const share = Math.ceil(stores.length / (await leases.replicas()));
    for (const store of [...owned].slice(share)) {
      owned.delete(store);
      await leases.releaseStore(store);
      log.info({ store }, `handed store ${store} back: more replicas share the stores now`);
    }
    // Each replica tries the stores from a different place, so they do not all reach for the same ones.
    const start = [...replica].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % Math.max(1, stores.length);
    for (const store of [...stores.slice(start), ...stores.slice(0, start)]) {
      if (owned.size >= share) break;
      if (!owned.has(store) && (await leases.takeStore(store))) {
        owned.add(store);
        log.info({ store }, `took store ${store}`);
      }
    }
  }

  async function work(only?: string): Promise<void> {
    for (const store of only === undefined ? [...owned] : [only].filter((s) => s !== ALL_STORES)) {
      if (!owned.has(store)) continue;
      // One store's trouble (its batch failing again and again) holds up none of the others.
      await processor
        .drain(store, () => owned.has(store) && leases.alive && !stopped)
        .catch((err: unknown) =>
          log.warn({ err: toAppError(err), store }, `store ${store}: a batch failed; trying again`),
        );
    }
    await outbox.send([...owned, ...(intake ? [ALL_STORES] : [])]);
  }

  // One look at a time; a notice or timer during one asks for another right after.
  const EVERYTHING = Symbol('every store');
  let running: Promise<void> = Promise.resolve();
  let again: typeof EVERYTHING | Set<string> | undefined;
  let failures = 0;
  async function look(what: typeof EVERYTHING | Set<string>): Promise<void> {
    try {
      if (what === EVERYTHING) {
        if (!leases.alive) await leases.connect();
        // A lease connection that no longer answers holds nothing: found out here, not in two hours.
        else await leases.check();
        await takeIntake();
        await balanceStores();
        await work();
      } else {
        for (const store of what) await work(store);
      }
      failures = 0;
    } catch (err) {
      // Said once, then each minute's worth of looks: a database that is down says so every second.
      if (failures++ % Math.max(1, Math.round(60_000 / checkMs)) === 0) {
        log.warn({ err: toAppError(err), failures }, 'could not reach the database or the broker; trying again');
      }
    }
  }
  /** EVERYTHING: a whole look; a store's name: that store's work only. */
  function schedule(what: typeof EVERYTHING | string): void {
    if (stopped) return;
    if (what === EVERYTHING) again = EVERYTHING;
    else if (again === undefined) again = new Set([what]);
    else if (again !== EVERYTHING) again.add(what);
    running = running.then(() => {
      const next = again;
      again = undefined;
      return next === undefined ? undefined : look(next);
    });
  }
  leases.onNotice((payload) => {
    const [of, store] = payload.split('/');
    if (of !== service || store === undefined) return;
    if (owned.has(store)) schedule(store);
    else if (store === ALL_STORES && intake) schedule(EVERYTHING);
  });
  const timer = setInterval(() => schedule(EVERYTHING), checkMs);
  schedule(EVERYTHING);

  const metrics = createMetrics(service, { bus: publisher });
  const http = await startHttpServer(config, log, {
    title: service,
    version: entryPackageVersion(),
    routes: [...(spec.http?.(ctx) ?? []), metrics.route],
    healthy: () => {
      const database = leases.alive;
      const broker = publisher.isConnected();
      // One session of the two is enough to take every event while the other's node comes back.
      const intakeOk = intake === undefined || intake.buses.some((b) => b.isSubscribed());
      const watching = watcher === undefined || publisher.isSubscribed();
      return {
        ok: database && broker && intakeOk && watching && !stopped,
        detail: {
          service,
          replica,
          database,
          connected: broker,
          // Every replica reads the stores' statuses for itself: without them its page is stale.
          ...(watcher ? { watching } : {}),
          intake: intake
            ? {
                subscribed: intake.buses.some((b) => b.isSubscribed()),
                sessions: intake.buses.map((b) => b.isSubscribed()),
                taken: intake.taken(),
              }
            : false,
          stores: [...owned],
          ...processor.stats(),
          published: outbox.sent,
        },
      };
    },
  });

  return {
    replica,
    port: http.port,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await http.close(config.shutdownTimeoutMs / 4);
      const buses = intake?.buses ?? [];
      intake = undefined;
      await Promise.all(buses.map((b) => b.close(config.shutdownTimeoutMs / 2)));
      await running;
      await publisher.close(config.shutdownTimeoutMs / 4);
      await leases.close();
      await pool.end();
    },
  };
}

/** A head-office replica's whole life, as its `main`. */
export function runHqService<S extends HqServiceName, O extends z.ZodObject = NoOptions>(
  spec: HqServiceSpec<S, O>,
): void {
  runMain(spec.service, async (startWatchdog) => {
    const options = spec.env ? HqEnv.extend(spec.env.shape) : HqEnv;
    const config = loadConfig(spec.service, { options }) as unknown as HqConfig<O>;
    const log = createLogger(config);
    const signalled = untilSignal(log, { exitOnStdinClose: config.exitOnStdinClose });
    const running = await startHqService(spec, config, log);
    log.info({ replica: running.replica, port: running.port }, `${spec.service} replica ${running.replica} running`);
    await signalled;
    startWatchdog();
    await running.stop();
  });
}
