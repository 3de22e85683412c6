import { closeSync, fdatasync, openSync } from 'node:fs';
import { AppError } from '@spectrum-grocers/contract';
import type { Db } from './store.js';

/**
 * When what a service committed is on disk. Under DB_SYNCHRONOUS=full nothing leaves the
 * service (a PUBACK, a 202, an outbox event) before the write-ahead log holding it is synced.
 *
 * SQLite's own FULL mode syncs the log inside every COMMIT, on the event loop: one fsync per
 * transaction, and nothing else runs meanwhile. Here SQLite runs in NORMAL mode (the log is
 * written on commit and synced before every checkpoint) and the log is synced by us, with
 * fdatasync on libuv's thread pool, once for every commit made before the sync started: the
 * loop keeps reading, parsing and applying the next messages while the disk works. FULL is
 * NORMAL plus exactly that sync after each commit (sqlite.org/pragma.html#pragma_synchronous).
 */
export interface Durability {
  /** Resolves once everything committed before the call is on disk; rejects when the disk fails. */
  durable(): Promise<void>;
  /**
   * `mark()` runs as each sync starts (what has been committed by then is what it covers) and
   * the function it returns runs once that sync has succeeded.
   */
  onSync(mark: () => () => void): void;
  /** Rejects (STORAGE_FAILED) when a sync fails: what the page cache holds can no longer be trusted. */
  readonly failed: Promise<never>;
  /** Waits for a sync under way, then lets go of the log; `durable()` refuses after it. */
  close(): Promise<void>;
}

/** Nothing to wait for: DB_SYNCHRONOUS=normal (a process crash loses nothing, a power cut may), or SQLite's own FULL. */
export function immediateDurability(): Durability {
  const marks: Array<() => () => void> = [];
  return {
    // On a later microtask, as a real sync would: no caller is re-entered.
    durable: () =>
      Promise.resolve().then(() => {
        for (const mark of marks) mark()();
      }),
    onSync: (mark) => void marks.push(mark),
    failed: new Promise<never>(() => {}),
    close: () => Promise.resolve(),
  };
}

/** The durability DB_SYNCHRONOUS asks for: the log synced before anything leaves (full), or none. */
export function durabilityOf(db: Db, sync: 'full' | 'normal'): Durability {
  return sync === 'full' ? walDurability(db) : immediateDurability();
}

/**
 * Sync the write-ahead log of `db` off the event loop, coalescing: callers that arrive while a
 * sync runs share the next one (theirs may have committed after the running one started).
 */
export function walDurability(db: Db): Durability {
  // Without a write-ahead log there is none to sync: SQLite's own FULL it is, then.
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') {
    db.pragma('synchronous = FULL');
    return immediateDurability();
  }
  db.pragma('synchronous = NORMAL');
  const wal = `${db.name}-wal`;
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  /**
   * Set by the first failed sync, for good: Linux reports a lost write once per file, so a later
   * fdatasync would succeed over pages that never reached the disk.
   */
  let broken: AppError | undefined;
  let closed = false;
  const marks: Array<() => () => void> = [];
  let fail: (err: AppError) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined); // observed by whoever runs the service

  function launch(): Promise<void> {
    if (broken) return Promise.reject(broken);
    if (closed) return Promise.reject(new AppError('STORAGE_FAILED', `${wal} is closed`));
    const done = marks.map((mark) => mark());
    const sync = new Promise<void>((resolve, reject) => {
      if (fd === undefined) {
        try {
          fd = openSync(wal, 'r');
        } catch (err) {
          // No log yet: nothing was ever committed in WAL mode, so nothing to sync.
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return resolve();
          return reject(err instanceof Error ? err : new Error(String(err)));
        }
      }
      fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    }).then(
      () => {
        for (const d of done) d();
      },
      (err: unknown) => {
        broken ??= new AppError('STORAGE_FAILED', `could not sync ${wal} to disk`, { cause: err });
        fail(broken);
        throw broken;
      },
    );
    running = sync;
    const clear = () => {
      if (running === sync) running = undefined;
    };
    sync.then(clear, clear);
    return sync;
  }

  return {
    durable() {
      if (broken) return Promise.reject(broken);
      if (!running) return launch();
      // The sync under way may have started before the caller's commit: wait for the next.
      queued ??= running
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return launch();
        });
      return queued;
    },
    onSync: (mark) => void marks.push(mark),
    failed,
    async close() {
      closed = true;
      // A sync on the thread pool still holds the descriptor: let it finish first.
      await queued?.catch(() => undefined);
      await running?.catch(() => undefined);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

interface Job {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface Committer {
  /**
   * Run `work` in the next shared transaction (a savepoint of its own: its throw undoes its
   * writes only, and rejects its promise) and resolve with its result once that transaction is
   * on disk. Whatever asks while the previous transaction is being synced joins the next one:
   * concurrent requests share one commit and one sync.
   */
  run<T>(work: () => T): Promise<T>;
  /** Transactions committed, and the pieces of work they held. */
  stats(): { transactions: number; jobs: number };
}

/** Group commit for work that arrives one piece at a time (HTTP requests). */
export function createCommitter(db: Db, durability: Durability): Committer {
  let queue: Job[] = [];
  let scheduled = false;
  /** A commit of ours is being synced: what arrives meanwhile waits, and goes in the next one. */
  let syncing = false;
  const counts = { transactions: 0, jobs: 0 };
  const savepoint = db.transaction((work: () => unknown) => work());
  const commitAll = db.transaction((jobs: readonly Job[]) =>
    jobs.map((job) => {
      try {
        return { ok: true as const, value: savepoint(job.work) };
      } catch (err) {
        return { ok: false as const, err };
      }
    }),
  );

  function schedule(): void {
    if (scheduled || syncing || queue.length === 0) return;
    scheduled = true;
    // After the requests already read in this turn of the loop have joined.
    setImmediate(commitQueued);
  }

  function commitQueued(): void {
    scheduled = false;
    const jobs = queue;
    queue = [];
    let outcomes: ReturnType<typeof commitAll>;
    try {
      outcomes = commitAll(jobs);
    } catch (err) {
      for (const job of jobs) job.reject(err);
      return;
    }
    counts.transactions++;
    counts.jobs += jobs.length;
    syncing = true;
    durability
      .durable()
      .then(
        () => outcomes.forEach((o, i) => (o.ok ? jobs[i]!.resolve(o.value) : jobs[i]!.reject(o.err))),
        (err: unknown) => {
          for (const job of jobs) job.reject(err);
        },
      )
      .finally(() => {
        syncing = false;
        schedule();
      });
  }

  return {
    stats: () => ({ ...counts }),
    run<T>(work: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
  };
}
