import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BaseConfig } from './config.js';
import { attachDataLock, makePrivateDir, makePrivateFile, tightenCompanions } from './data-lock.js';

export type Db = Database.Database;

/**
 * The outbox. Its `event_id` has no index: a consumer's events are new by construction (each is
 * derived from an input claimed once in the same transaction), and every index is one more page
 * written and synced per event. A service whose events come from outside adds
 * `OUTBOX_BY_EVENT_ID` to its schema (the gates: a sensor's retried scan is stored once).
 */
const OUTBOX_TABLE = `
CREATE TABLE IF NOT EXISTS outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id   TEXT NOT NULL,
  topic      TEXT NOT NULL,
  payload    TEXT NOT NULL,
  retain     INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  sent_at    TEXT
);`;

const PROCESSED_TABLE = `
CREATE TABLE IF NOT EXISTS processed_events (
  event_id     TEXT NOT NULL,
  topic        TEXT NOT NULL,
  outcome      TEXT NOT NULL CHECK (outcome IN ('handled', 'dead-letter')),
  processed_at TEXT NOT NULL,
  PRIMARY KEY (topic, event_id)
) WITHOUT ROWID;`;

/** Tables every consuming service keeps: what it has processed, and what it must still publish. */
const RUNTIME_SCHEMA = `${PROCESSED_TABLE}
${OUTBOX_TABLE}
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
`;

/** For a service schema: the outbox stores one row per `event_id` (INSERT OR IGNORE skips the rest). */
export const OUTBOX_BY_EVENT_ID = 'CREATE UNIQUE INDEX IF NOT EXISTS outbox_by_event_id ON outbox (event_id);';

/**
 * How `table` keeps `column` unique: by a constraint in its definition (UNIQUE or PRIMARY KEY),
 * by an index made beside it, or not at all.
 */
export function uniqueOn(db: Db, table: string, column: string): 'definition' | 'index' | undefined {
  const indexes = db
    .prepare<[string], { name: string; origin: string }>(
      'SELECT name, origin FROM pragma_index_list(?) WHERE "unique" = 1 AND partial = 0',
    )
    .all(table);
  const on = indexes.filter(({ name }) => {
    const columns = db.prepare<[string], { name: string }>('SELECT name FROM pragma_index_info(?)').all(name);
    return columns.length === 1 && columns[0]!.name === column;
  });
  if (on.length === 0) return undefined;
  // Both kinds at once (an index made beside a constraint): the constraint is what counts.
  return on.some(({ origin }) => origin !== 'c') ? 'definition' : 'index';
}

/**
 * Rebuild `table` as `create` makes it, keeping its rows (and its AUTOINCREMENT counter), in one
 * transaction: how a constraint written into a table's definition is dropped in SQLite. The
 * table's indexes go with the old table; the schema that follows makes them again. Rows are
 * copied in `orderBy` order (the new table's key: several times faster than random order).
 *
 * It costs a copy of the table (about 3 s per million outbox rows here) and free disk for it; the
 * old table's pages stay in the file as free pages for new rows (VACUUM, stopped, returns them).
 */
export function rebuildTable(
  db: Db,
  table: string,
  create: string,
  columns: readonly string[],
  orderBy: string = columns[0]!,
): void {
  const list = columns.join(', ');
  db.transaction(() => {
    db.exec(`ALTER TABLE ${table} RENAME TO ${table}_before;
      ${create}
      INSERT INTO ${table} (${list}) SELECT ${list} FROM ${table}_before ORDER BY ${orderBy};`);
    const autoincrement = db
      .prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'sqlite_sequence'")
      .get()!.n;
    if (autoincrement > 0) {
      db.prepare('DELETE FROM sqlite_sequence WHERE name = ?').run(table);
      db.prepare('INSERT INTO sqlite_sequence (name, seq) SELECT ?, seq FROM sqlite_sequence WHERE name = ?').run(
        table,
        `${table}_before`,
      );
    }
    db.exec(`DROP TABLE ${table}_before;`);
  })();
  // The copy went through the log: write it back and truncate the log, not leave it that size.
  db.pragma('wal_checkpoint(TRUNCATE)');
}

/**
 * An event_id is unique within its kind only (each publisher makes its own), so what a service
 * has processed is keyed by (topic, event_id). A database from before was keyed by event_id
 * alone, when each service read one topic: its rows move to the new key, in one transaction.
 */
function keyProcessedEventsByTopic(db: Db): void {
  const key = db
    .prepare<[], { name: string; pk: number }>(
      "SELECT name, pk FROM pragma_table_info('processed_events') WHERE pk > 0",
    )
    .all();
  if (key.length !== 1) return; // a new database, or keyed by topic already
  rebuildTable(
    db,
    'processed_events',
    PROCESSED_TABLE,
    ['event_id', 'topic', 'outcome', 'processed_at'],
    'topic, event_id',
  );
}

/** An earlier version kept `event_id UNIQUE` in the outbox's definition: see OUTBOX_TABLE. */
function unkeyOutboxByEventId(db: Db): void {
  if (uniqueOn(db, 'outbox', 'event_id') !== 'definition') return;
  rebuildTable(db, 'outbox', OUTBOX_TABLE, ['seq', 'event_id', 'topic', 'payload', 'retain', 'created_at', 'sent_at']);
}

/**
 * Open (or create) the service's SQLite file in DATA_DIR with the runtime tables and the
 * service's own schema. WAL keeps readers off the writer's back; `synchronous` is FULL unless
 * DB_SYNCHRONOUS=normal (which survives a process crash, not a power cut).
 *
 * The connection holds the service's DATA_DIR lock (`<service>.lock`) while it is open: a
 * second copy of the service on the same data fails here with DATA_DIR_IN_USE. The directory
 * (when made here) and every file are this user's only: bills and stock are nobody else's.
 */
export function openDatabase(
  config: Pick<BaseConfig, 'dataDir' | 'service' | 'dbSynchronous'>,
  schema = '',
  /** Moves an earlier version's own tables to today's shape, before `schema` runs. */
  migrate?: (db: Db) => void,
): Db {
  makePrivateDir(config.dataDir);
  const path = join(config.dataDir, `${config.service}.db`);
  makePrivateFile(path);
  const db = new Database(path);
  try {
    attachDataLock(db, config.dataDir, config.service);
    tightenCompanions(path);
    // Qualified: unqualified, journal_mode would switch the attached lock file to WAL too.
    db.pragma('main.journal_mode = WAL');
    db.pragma(`synchronous = ${config.dbSynchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    keyProcessedEventsByTopic(db);
    unkeyOutboxByEventId(db);
    db.exec(RUNTIME_SCHEMA);
    migrate?.(db);
    if (schema) db.exec(schema);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
