import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep, withTimeout } from './timers.js';

describe('timers', () => {
  it('ends a sleep when its signal aborts', async () => {
    const ctl = new AbortController();
    const started = Date.now();
    setTimeout(() => ctl.abort(), 20);
    await sleep(10_000, ctl.signal);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  // Regression: a gate stopped while publishing then slept its full 2–20 s scan interval,
  // because the signal had aborted before the sleep began and 'abort' never fires twice.
  it('does not sleep at all when the signal has already aborted', async () => {
    const ctl = new AbortController();
    ctl.abort();
    const started = Date.now();
    await sleep(10_000, ctl.signal);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects a promise that outlives its timeout with a retryable TIMEOUT', async () => {
    await expect(withTimeout(new Promise(() => undefined), 10, 'waiting')).rejects.toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });
  });

  it('backs off exponentially within its bounds', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const d = backoffDelay(attempt, 100, 5000);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(Math.min(5000, 100 * 2 ** attempt));
    }
  });
});
