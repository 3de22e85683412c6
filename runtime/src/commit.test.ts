import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@spectrum-grocers/testkit';
import { createCommitter, walDurability, type Durability } from './commit.js';
import { openDatabase, type Db } from './store.js';

/** A durability whose syncs the test finishes by hand. */
function manualDurability() {
  const pending: Array<() => void> = [];
  const durability: Durability = {
    durable: () => new Promise<void>((resolve) => pending.push(resolve)),
    onSync: () => undefined,
    failed: new Promise<never>(() => {}),
    close: () => Promise.resolve(),
  };
  return { durability, syncs: () => pending.length, finish: () => pending.splice(0).forEach((r) => r()) };
}

describe('group commit', () => {
  let data: ReturnType<typeof tempDir>;
  let db: Db;
  beforeEach(() => {
    data = tempDir();
    db = openDatabase(
      { dataDir: data.path, service: 'commit-test', dbSynchronous: 'full' },
      'CREATE TABLE t (v TEXT UNIQUE)',
    );
  });
  afterEach(() => {
    db.close();
    data.remove();
  });
  const rows = () =>
    db
      .prepare<[], { v: string }>('SELECT v FROM t ORDER BY v')
      .all()
      .map((r) => r.v);

  it('puts work asked for together in one transaction with one sync, and answers only after that sync', async () => {
    const { durability, syncs, finish } = manualDurability();
    const commits = createCommitter(db, durability);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let answered = 0;
    const all = Array.from({ length: 50 }, (_, i) =>
      commits.run(() => insert.run(`v${String(i).padStart(2, '0')}`).changes).then((n) => (answered++, n)),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits.stats()).toEqual({ transactions: 1, jobs: 50 });
    expect(syncs()).toBe(1);
    expect(rows()).toHaveLength(50); // committed…
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answered).toBe(0); // …but nobody told until it is on disk
    finish();
    expect(await Promise.all(all)).toEqual(Array(50).fill(1));
  });

  it('undoes only the work that threw, and rejects only its promise', async () => {
    const { durability, finish } = manualDurability();
    const commits = createCommitter(db, durability);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const ok = commits.run(() => insert.run('a'));
    const bad = commits.run(() => {
      insert.run('b');
      insert.run('a'); // UNIQUE: this work fails, and its 'b' goes with it
    });
    const alsoOk = commits.run(() => insert.run('c'));
    await new Promise((resolve) => setImmediate(resolve));
    finish();
    await expect(ok).resolves.toBeDefined();
    await expect(bad).rejects.toThrow(/UNIQUE/);
    await expect(alsoOk).resolves.toBeDefined();
    expect(rows()).toEqual(['a', 'c']);
  });
});

describe('syncing the write-ahead log off the event loop', () => {
  it('runs SQLite in NORMAL mode and shares one sync among the callers that wait for the same one', async () => {
    const data = tempDir();
    const db = openDatabase({ dataDir: data.path, service: 'wal-test', dbSynchronous: 'full' }, 'CREATE TABLE t (v)');
    const wal = walDurability(db);
    try {
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL: the log is ours to sync
      let started = 0;
      let finished = 0;
      wal.onSync(() => (started++, () => finished++));
      db.prepare('INSERT INTO t VALUES (1)').run();
      // One sync starts; the nine callers after it share the next one.
      await Promise.all(Array.from({ length: 10 }, () => wal.durable()));
      expect([started, finished]).toEqual([2, 2]);
      await wal.durable();
      expect(started).toBe(3);
      expect(readFileSync(`${db.name}-wal`).length).toBeGreaterThan(0);
    } finally {
      await wal.close();
      db.close();
      data.remove();
    }
  });
});

/** The descriptor walDurability opened on the log: the read-only one (SQLite's own is read-write). */
function openedWal(db: Db): number {
  const fds = readdirSync('/proc/self/fd').map(Number);
  const ours = fds.find((fd) => {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== `${db.name}-wal`) return false;
      const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      return flags !== undefined && (parseInt(flags, 8) & 3) === 0;
    } catch {
      return false;
    }
  });
  if (ours === undefined) throw new Error('no read-only descriptor on the log');
  return ours;
}

describe('a failed sync', () => {
  it('fails every later wait too: a second fdatasync would report success over the lost pages', async () => {
    const data = tempDir();
    const db = openDatabase({ dataDir: data.path, service: 'wal-fail', dbSynchronous: 'full' }, 'CREATE TABLE t (v)');
    const wal = walDurability(db);
    try {
      db.prepare('INSERT INTO t VALUES (1)').run();
      await wal.durable();
      // The log's descriptor is closed under it: the next fdatasync fails (EBADF) as a disk error would.
      const fd = openedWal(db);
      closeSync(fd);
      await expect(wal.durable()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
      await expect(wal.failed).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
      // The number now names a healthy file, as a disk reports a lost write once: syncing it
      // again would succeed, and must not count.
      const other = openSync(join(data.path, 'other'), 'w');
      try {
        expect(other).toBe(fd);
        await expect(wal.durable()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
      } finally {
        closeSync(other);
      }
    } finally {
      db.close();
      data.remove();
    }
  });
});
