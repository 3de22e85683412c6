import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BaseConfig } from './config.js';
import { attachDataLock, makePrivateDir, makePrivateFile, tightenCompanions } from './data-lock.js';

export type Db = Database.Database;

/** Tables every consuming service keeps: what it has processed, and what it must still publish. */
const RUNTIME_SCHEMA = `
CREATE TABLE IF NOT EXISTS processed_events (
  event_id     TEXT NOT NULL,
  topic        TEXT NOT NULL,
  outcome      TEXT NOT NULL CHECK (outcome IN ('handled', 'dead-letter')),
  processed_at TEXT NOT NULL,
  PRIMARY KEY (topic, event_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS outbox (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id   TEXT NOT NULL UNIQUE,
  topic      TEXT NOT NULL,
  payload    TEXT NOT NULL,
  retain     INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  sent_at    TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE sent_at IS NULL;
`;

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
  db.transaction(() => {
    db.exec(`ALTER TABLE processed_events RENAME TO processed_events_by_id;
      ${RUNTIME_SCHEMA}
      INSERT INTO processed_events (event_id, topic, outcome, processed_at)
        SELECT event_id, topic, outcome, processed_at FROM processed_events_by_id;
      DROP TABLE processed_events_by_id;`);
  })();
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
export function openDatabase(config: Pick<BaseConfig, 'dataDir' | 'service' | 'dbSynchronous'>, schema = ''): Db {
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
    db.exec(RUNTIME_SCHEMA);
    if (schema) db.exec(schema);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
