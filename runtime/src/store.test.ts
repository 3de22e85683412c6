import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { tempDir } from '@spectrum-grocers/testkit';
import { openDatabase, uniqueOn, type Db } from './store.js';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('openDatabase', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0).reverse()) c();
  });
  const open = (dataDir: string, service = 'fastlane-finale'): Db => {
    const db = openDatabase({ dataDir, service, dbSynchronous: 'normal' });
    cleanup.push(() => db.close());
    return db;
  };

  it('keys what was processed by topic and event_id, moving the rows of a database keyed by event_id alone', () => {
    const tmp = tempDir();
    cleanup.push(tmp.remove);
    const old = new Database(join(tmp.path, 'inventory-intel.db'));
    old.exec(`CREATE TABLE processed_events (
      event_id TEXT PRIMARY KEY, topic TEXT NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('handled', 'dead-letter')), processed_at TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO processed_events VALUES ('e-1', 'x/y/customer-departure', 'handled', 'then');`);
    old.close();
    const db = open(tmp.path, 'inventory-intel');
    expect(db.prepare('SELECT * FROM processed_events').all()).toEqual([
      { event_id: 'e-1', topic: 'x/y/customer-departure', outcome: 'handled', processed_at: 'then' },
    ]);
    // The same id on another topic is another event; on the same topic, the same one.
    db.prepare("INSERT INTO processed_events VALUES ('e-1', 'x/y/stock-delivered', 'handled', 'now')").run();
    expect(() =>
      db.prepare("INSERT INTO processed_events VALUES ('e-1', 'x/y/customer-departure', 'handled', 'now')").run(),
    ).toThrow(/UNIQUE/);
  });

  it('rebuilds an outbox that kept event_id UNIQUE in its definition: rows, pending marks and its counter stay, the index goes', () => {
    const tmp = tempDir();
    cleanup.push(tmp.remove);
    const old = new Database(join(tmp.path, 'fastlane-finale.db'));
    old.exec(`CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL,
        payload TEXT NOT NULL, retain INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, sent_at TEXT);
      CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
      INSERT INTO outbox VALUES (1, 'p-1', 't', '{}', 0, 'then', 'then'), (2, 'p-2', 't', '{}', 1, 'then', NULL);
      UPDATE sqlite_sequence SET seq = 7 WHERE name = 'outbox';`);
    old.close();
    const db = open(tmp.path);
    expect(db.prepare('SELECT seq, event_id, retain, sent_at FROM outbox ORDER BY seq').all()).toEqual([
      { seq: 1, event_id: 'p-1', retain: 0, sent_at: 'then' },
      { seq: 2, event_id: 'p-2', retain: 1, sent_at: null },
    ]);
    expect(uniqueOn(db, 'outbox', 'event_id')).toBeUndefined();
    expect(db.prepare("SELECT name FROM pragma_index_list('outbox')").all()).toEqual([{ name: 'outbox_pending' }]);
    // A seq is never handed out twice, even one whose row is gone.
    const next = db
      .prepare("INSERT INTO outbox (event_id, topic, payload, created_at) VALUES ('p-3', 't', '{}', 'now')")
      .run().lastInsertRowid;
    expect(next).toBe(8);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '%before%'").get()).toEqual({ n: 0 });
  });

  it("tells a UNIQUE in a table's definition from an index made beside it, and either from other indexes", () => {
    const tmp = tempDir();
    cleanup.push(tmp.remove);
    const db = open(tmp.path);
    db.exec(`CREATE TABLE t (a TEXT UNIQUE, b TEXT, c TEXT, d TEXT);
      CREATE UNIQUE INDEX t_a ON t (a);
      CREATE UNIQUE INDEX t_b ON t (b);
      CREATE UNIQUE INDEX t_cd ON t (c, d);
      CREATE UNIQUE INDEX t_d ON t (d) WHERE d IS NOT NULL;`);
    // Both on a: the constraint is what a rebuild must drop.
    expect(uniqueOn(db, 't', 'a')).toBe('definition');
    expect(uniqueOn(db, 't', 'b')).toBe('index');
    expect(uniqueOn(db, 't', 'c')).toBeUndefined(); // part of a composite key only
    expect(uniqueOn(db, 't', 'd')).toBeUndefined(); // partial
  });

  it('keeps bills from other users: the database, its -wal and -shm and its lock are 0600 (they were world-readable), in a DATA_DIR it makes 0700', () => {
    const tmp = tempDir();
    cleanup.push(tmp.remove);
    const data = join(tmp.path, 'made', 'here');
    const db = open(data);
    db.prepare("INSERT INTO processed_events VALUES ('e-1', 't', 'handled', 'now')").run();
    for (const dir of [join(tmp.path, 'made'), data]) expect(modeOf(dir), dir).toBe('700');
    const files = readdirSync(data);
    expect(files).toEqual(
      expect.arrayContaining([
        'fastlane-finale.db',
        'fastlane-finale.db-wal',
        'fastlane-finale.db-shm',
        'fastlane-finale.lock',
      ]),
    );
    for (const file of files) expect(modeOf(join(data, file)), file).toBe('600');
  });

  it('tightens the files an earlier version left world-readable, and leaves a DATA_DIR it did not make as it is', () => {
    const tmp = tempDir();
    cleanup.push(tmp.remove);
    chmodSync(tmp.path, 0o755);
    open(tmp.path).close();
    const files = ['fastlane-finale.db', 'fastlane-finale.db-wal', 'fastlane-finale.db-shm'].map((f) =>
      join(tmp.path, f),
    );
    // As an earlier version, killed before it closed the database, left them: readable by all.
    for (const file of files) writeFileSync(file, '', { flag: 'a' });
    for (const file of files) chmodSync(file, 0o644);
    open(tmp.path);
    for (const file of files) expect(modeOf(file), file).toBe('600');
    expect(modeOf(tmp.path)).toBe('755');
  });

  it('refuses a second connection to one service’s data while the first is open, and not after it closed', () => {
    const tmp = tempDir();
    cleanup.push(tmp.remove);
    const first = open(tmp.path);
    expect(() => open(tmp.path)).toThrow(`DATA_DIR ${tmp.path} is in use by another fastlane-finale`);
    first.close();
    open(tmp.path).prepare('SELECT count(*) FROM outbox').get();
  });
});
