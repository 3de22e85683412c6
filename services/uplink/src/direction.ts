import { UPLINK } from '@spectrum-grocers/contract';
import {
  createForwarder,
  createOutbox,
  durabilityOf,
  openDatabase,
  type BaseConfig,
  type Bus,
  type ForwarderStats,
  type Logger,
  type Metrics,
} from '@spectrum-grocers/runtime';
import type { Direction } from './metrics.js';

/** One way across the link: what it read from one broker, committed, and relayed to the other. */
export interface Link {
  readonly direction: Direction;
  readonly stats: Readonly<ForwarderStats>;
  /** Rejects when its disk fails: nothing it acknowledges after that could be trusted. */
  readonly failed: Promise<never>;
  /** Subscribe to `filters` and forward; resolves once subscribed. */
  start(filters: readonly string[]): Promise<void>;
  /** Messages committed and not yet acknowledged by the broker they go to. */
  backlog(): number;
  /** Publish what is committed, for at most `ms`; whether all of it went. */
  drain(ms: number): Promise<boolean>;
  /** Stop relaying and close its store (after both buses stopped taking messages). */
  close(): Promise<void>;
}

export interface LinkDeps {
  config: BaseConfig;
  direction: Direction;
  from: Bus;
  to: Bus;
  log: Logger;
  metrics: Metrics;
  retain: (topic: string) => boolean;
}

/**
 * A SQLite file of its own per direction (`uplink-up.db`, `uplink-down.db` in DATA_DIR, each
 * with its own lock): the runtime keeps one outbox per file, and each direction commits and
 * syncs on its own, so a slow side never holds the other back.
 */
export function openLink({ config, direction, from, to, log, metrics, retain }: LinkDeps): Link {
  const db = openDatabase({ ...config, service: `${UPLINK}-${direction}` });
  const durability = durabilityOf(db, config.dbSynchronous);
  const outbox = createOutbox(db, to, log, [], durability);
  outbox.onPublished((topic) => metrics.eventsOut.inc({ topic }));
  const forwarder = createForwarder({ from, db, outbox, durability, log, metrics, retain });
  return {
    direction,
    stats: forwarder.stats,
    failed: durability.failed,
    start: (filters) => forwarder.start(filters),
    backlog: () => (db.open ? outbox.pendingCount() : 0),
    drain: (ms) => outbox.drain(ms),
    async close() {
      outbox.stop();
      await durability.close();
      db.close();
    },
  };
}
