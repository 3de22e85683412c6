import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, openDatabase, type Db, type Logger } from '@spectrum-grocers/runtime';

/** A logger that says nothing (set TEST_LOG_LEVEL=debug to see it). */
export function quietLogger(service = 'test'): Logger {
  return createLogger({ service, log: { level: process.env.TEST_LOG_LEVEL ?? 'silent', format: 'json' } });
}

/** A fresh directory under the system temp dir, and a function that deletes it. */
export function tempDir(prefix = 'ff-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  // Retried: a process that was just stopped may still be closing files in it.
  return { path, remove: () => rmSync(path, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }) };
}

/** A real SQLite file with the runtime tables and `schema`, in a fresh temp directory. */
export function tempDatabase(service: string, schema: string): { db: Db; dir: string; close: () => void } {
  const dir = tempDir();
  const db = openDatabase({ dataDir: dir.path, service, dbSynchronous: 'normal' }, schema);
  return {
    db,
    dir: dir.path,
    close: () => {
      db.close();
      dir.remove();
    },
  };
}
