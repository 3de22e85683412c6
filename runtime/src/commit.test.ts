import { readFileSync } from 'node:fs';
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
    close() {},
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
      wal.close();
      db.close();
      data.remove();
    }
  });
});
