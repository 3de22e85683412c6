import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_FILE } from '@spectrum-grocers/runtime/session';
import { freePort, launchTestStore, tempDir, waitUntil } from '@spectrum-grocers/testkit';
import { settings, type Io } from './io.js';

/** grocer's surroundings with `DATA_DIR`, and what it wrote to stderr. */
function io(dataDir: string): { io: Io; err: () => string } {
  let err = '';
  return {
    io: {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (err += s) },
      env: { DATA_DIR: dataDir },
      interrupted: new Promise<void>(() => {}),
    },
    err: () => err,
  };
}

describe('where grocer finds the broker of pnpm start', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('ignores and removes the session file of a pnpm start killed with SIGKILL, instead of using its dead broker and passwords', async () => {
    const data = tempDir();
    cleanup.push(data.remove);
    const port = await freePort();
    const store = await launchTestStore(data.path, {
      SERVICES: 'hello-helper',
      CONTROL_ROOM: 'false',
      MQTT_PORT: String(port),
    });
    cleanup.push(store.stop);
    await waitUntil(() => store.output().includes('"msg":"store running'), 'the store to run');

    const running = io(data.path);
    const live = settings(running.io, {});
    expect(live.url).toBe(`mqtt://127.0.0.1:${port}`);
    expect(live.passwordOf('hello-helper')).toBeTruthy();
    expect(running.err()).toBe('');

    const session = join(data.path, SESSION_FILE);
    const written = readFileSync(session, 'utf8');
    store.child.kill('SIGKILL');
    await store.exit;
    // Its services remove the file as they stop (stdin closed); a launcher whose services died
    // with it leaves it behind, as here once they are done.
    await waitUntil(() => !existsSync(session), 'its services to remove the session file');
    writeFileSync(session, written, { mode: 0o600 });
    const after = io(data.path);
    const stale = settings(after.io, {});
    expect(stale.url).toBe('mqtt://localhost:1883');
    expect(stale.passwordOf('hello-helper')).toBeUndefined();
    expect(after.err()).toBe(
      `grocer: ignored and removed ${session}: the pnpm start that wrote it is no longer running\n`,
    );
    expect(existsSync(session)).toBe(false);
  });
});
