import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '@spectrum-grocers/contract';

/*
 * One process per service per DATA_DIR. Two fastlane-finale on one directory fight over their
 * database ("database is locked") and each relays the other's outbox; two `pnpm start`s
 * overwrite each other's session file. The lock is SQLite's own, a POSIX (fcntl) lock on
 * `<name>.lock`: the kernel drops it when its holder dies, however it dies, so a restart after
 * kill -9 never has to guess whether a lock is stale.
 */

/**
 * Long enough to ride out the instant another process holds the lock file while it tries (and
 * fails) to take it, or while a tool checks it; short enough to refuse at once.
 */
const WAIT_MS = 500;

/**
 * The holder writes its pid into the lock file's header field `user_version`, a big-endian
 * int at offset 60 of SQLite's documented file format: whoever is refused reads it there
 * with plain file I/O, which the holder's (advisory) lock does not stop.
 */
const PID_OFFSET = 60;

/** The schema name a locked connection attaches the lock file under. */
const LOCK_SCHEMA = 'data_lock';

export interface DataLock {
  /** Let go of the lock; dying does the same. */
  readonly release: () => void;
}

/** `DATA_DIR/<name>.lock`. */
export function lockPath(dir: string, name: string): string {
  return join(dir, `${name}.lock`);
}

/** Create `dir` (and its parents) readable by this user only, if it does not exist. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/**
 * Make `path` readable by this user only, creating it empty if it is missing. Made before
 * SQLite opens it, since SQLite gives the -journal, -wal and -shm files it creates the mode
 * of their database.
 */
export function makePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
}

/** Tighten the files SQLite left beside `dbPath` (a -wal after a crash keeps its old mode). */
export function tightenCompanions(dbPath: string): void {
  for (const suffix of ['-wal', '-shm', '-journal']) {
    if (existsSync(dbPath + suffix)) chmodSync(dbPath + suffix, 0o600);
  }
}

/** What DATA_DIR_IN_USE tells whoever was refused to do, unless the caller knows better. */
const REMEDY = 'stop that one, or give this one a DATA_DIR of its own';

/**
 * Take `name`'s lock in `dir` on an open connection: held exclusively until the connection
 * closes or the process dies. Throws DATA_DIR_IN_USE when a live process holds it. `label`
 * names the holder in that message, `remedy` what to do about it.
 */
export function attachDataLock(
  db: Database.Database,
  dir: string,
  name: string,
  label = name,
  waitMs = WAIT_MS,
  remedy = REMEDY,
): void {
  const path = lockPath(dir, name);
  makePrivateFile(path);
  db.pragma(`busy_timeout = ${waitMs}`);
  try {
    db.prepare(`ATTACH DATABASE ? AS ${LOCK_SCHEMA}`).run(path);
    // In exclusive locking mode SQLite keeps the EXCLUSIVE lock this write needs until the
    // connection closes. Only the lock file is in that mode: the database itself stays
    // readable by others (WAL, normal locking).
    db.pragma(`${LOCK_SCHEMA}.locking_mode = EXCLUSIVE`);
    db.pragma(`${LOCK_SCHEMA}.user_version = ${process.pid}`);
  } catch (err) {
    if (isBusy(err)) throw inUse(dir, label, holderPid(path), remedy);
    throw err;
  }
}

/** Hold `name`'s lock in `dir` (created 0700 if missing) until `release()` or death. */
export function lockDataDir(dir: string, name: string, label = name, waitMs = WAIT_MS, remedy = REMEDY): DataLock {
  makePrivateDir(dir);
  const db = new Database(':memory:');
  try {
    attachDataLock(db, dir, name, label, waitMs, remedy);
  } catch (err) {
    db.close();
    throw err;
  }
  return { release: () => db.close() };
}

/**
 * Run `fn` while holding `name`'s lock, if no live process holds it, and say whether it ran.
 * What a lock's holder leaves behind is stale when its lock is free; `fn` removes it without
 * racing a new holder, which cannot take the lock meanwhile.
 */
export function whileUnlocked(dir: string, name: string, fn: () => void, waitMs = WAIT_MS): boolean {
  let lock: DataLock;
  try {
    lock = lockDataDir(dir, name, name, waitMs);
  } catch (err) {
    if (err instanceof AppError && err.code === 'DATA_DIR_IN_USE') return false;
    throw err;
  }
  try {
    fn();
    return true;
  } finally {
    lock.release();
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function inUse(dir: string, label: string, pid: number | undefined, remedy: string): AppError {
  const holder = pid === undefined ? label : `${label} (pid ${pid})`;
  return new AppError('DATA_DIR_IN_USE', `DATA_DIR ${dir} is in use by another ${holder}; ${remedy}`);
}

/** The pid the lock's holder wrote, if it got that far. */
function holderPid(path: string): number | undefined {
  const header = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    const read = readSync(fd, header, 0, 4, PID_OFFSET);
    const pid = read === 4 ? header.readInt32BE(0) : 0;
    return pid > 0 ? pid : undefined;
  } finally {
    closeSync(fd);
  }
}
