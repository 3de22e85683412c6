import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '@spectrum-grocers/testkit';
import { lockDataDir } from './data-lock.js';
import { LAUNCHER_LOCK, readSessionFile, SESSION_FILE } from './session.js';

describe('the session file of pnpm start', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(() => {
    for (const c of cleanup.splice(0).reverse()) c();
  });
  const setup = () => {
    const data = tempDir();
    cleanup.push(data.remove);
    const path = join(data.path, SESSION_FILE);
    writeFileSync(path, 'MQTT_URL=mqtt://127.0.0.1:31883\n', { mode: 0o600 });
    return { dir: data.path, path };
  };

  it('is read while the launcher that wrote it holds its lock', () => {
    const { dir, path } = setup();
    const launcher = lockDataDir(dir, LAUNCHER_LOCK);
    cleanup.push(launcher.release);
    const stale: string[] = [];
    expect(readSessionFile(dir, (p) => stale.push(p))).toEqual({ MQTT_URL: 'mqtt://127.0.0.1:31883' });
    expect(stale).toEqual([]);
    expect(existsSync(path)).toBe(true);
  });

  it('is ignored and removed once its launcher is gone, instead of sending tools to a dead broker', () => {
    const { dir, path } = setup();
    const stale: string[] = [];
    expect(readSessionFile(dir, (p) => stale.push(p))).toBeUndefined();
    expect(stale).toEqual([path]);
    expect(existsSync(path)).toBe(false);
  });

  it('is nothing when there is none', () => {
    const data = tempDir();
    cleanup.push(data.remove);
    expect(readSessionFile(join(data.path, 'nowhere'))).toBeUndefined();
  });
});
