import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseEnv } from 'dotenv';
import { whileUnlocked } from './data-lock.js';

// Tools find a store of this machine by its PORT_OFFSET (its ports and its DATA_DIR), or by its
// name under `pnpm start:chain`.
export {
  CHAIN_DATA_DIR,
  chainStoreDataDir,
  MQTT_DEFAULT_PORT,
  PORT_OFFSET_STEP,
  portOffsetProblem,
  storeInstance,
  type StoreInstance,
} from './instance.js';

/** Where `pnpm start` leaves its broker URL and accounts (in DATA_DIR) for tools while it runs. */
export const SESSION_FILE = 'store-session.env';

/**
 * The DATA_DIR lock `pnpm start` holds while it runs (`store.lock`). Its session file is only
 * as good as that lock: the launcher writes the file while holding it, so a file whose lock is
 * free was left by a launcher that died without removing it (kill -9).
 */
export const LAUNCHER_LOCK = 'store';

/**
 * The broker URL, account passwords and processes' URLs (`<PROCESS>_URL`, e.g.
 * INVENTORY_INTEL_URL) a running `pnpm start` left in `dataDir`; undefined
 * when none runs. A stale file is removed, and `onStale` told its path.
 */
export function readSessionFile(dataDir: string, onStale?: (path: string) => void): Record<string, string> | undefined {
  const path = join(dataDir, SESSION_FILE);
  const text = readIfExists(path);
  if (text === undefined) return undefined;
  if (removeStaleSessionFile(dataDir)) {
    onStale?.(path);
    return undefined;
  }
  // The lock was taken a moment ago by whoever removed the file (a dead launcher's service).
  if (readIfExists(path) === undefined) return undefined;
  return parseEnv(text);
}

/**
 * Remove `dataDir`'s session file if no `pnpm start` holds its lock (its writer is gone);
 * whether it did. Safe against a new launcher: that one cannot take the lock meanwhile.
 */
export function removeStaleSessionFile(dataDir: string, waitMs?: number): boolean {
  return whileUnlocked(dataDir, LAUNCHER_LOCK, () => rmSync(join(dataDir, SESSION_FILE), { force: true }), waitMs);
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
