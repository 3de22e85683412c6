import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/log-writer.mjs', import.meta.url));

/** Run the writer fixture; `reader` decides what happens to its stdout. */
function runWriter(reader: 'closed' | 'reading') {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (reader === 'closed') child.stdout.destroy();
  let received = 0;
  if (reader === 'reading') child.stdout.on('data', (d: Buffer) => (received += d.length));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const started = Date.now();
  return new Promise<{ code: number | null; ms: number; err: string; received: number }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - started, err, received });
    });
  });
}

describe('stdout log writer', () => {
  it('delivers every line to a reader', async () => {
    const r = await runWriter('reading');
    expect(r.code).toBe(0);
    expect(r.received).toBe(5000 * 1001);
  });

  // Regression: pino's writer retried EPIPE forever, freezing a service whose supervisor died.
  it('goes quiet instead of hanging when stdout is closed', async () => {
    const r = await runWriter('closed');
    expect(r).toMatchObject({ code: 0, err: 'done\n' });
    expect(r.ms).toBeLessThan(10_000);
  });
});
