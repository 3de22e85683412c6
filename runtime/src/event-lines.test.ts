import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { eventLines } from './event-lines.js';

function capture(level: string) {
  const lines: Array<{ level: number; msg: string; heldBack?: number }> = [];
  const log = createLogger(
    { service: 'event-lines-test', log: { level, format: 'json' } },
    { write: (line) => lines.push(JSON.parse(line) as (typeof lines)[number]) },
  );
  return { log, lines };
}

describe('one info line per event, while a person can read them', () => {
  it('prints the first lines of each second, counts the rest and prints the count', async () => {
    const { log, lines } = capture('info');
    let t = 1_000_000;
    const line = eventLines(log, 'departure', { perSecond: 3, summaryMs: 20, now: () => t });
    for (let i = 0; i < 10; i++) line({ i }, `departure ${i}`);
    t += 1000; // a new second: three more printed
    for (let i = 10; i < 15; i++) line({ i }, `departure ${i}`);
    expect(lines.map((l) => l.msg)).toEqual([0, 1, 2, 10, 11, 12].map((i) => `departure ${i}`));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const summary = lines.at(-1)!;
    expect(summary.heldBack).toBe(9);
    expect(summary.msg).toBe('… 9 more departures in the last 1 s: LOG_LEVEL=debug prints each');
  });

  it('prints every line at debug', () => {
    const { log, lines } = capture('debug');
    const line = eventLines(log, 'departure', { perSecond: 2, summaryMs: 10_000, now: () => 5_000 });
    for (let i = 0; i < 5; i++) line({ i }, `departure ${i}`);
    expect(lines.map((l) => l.msg)).toEqual([0, 1, 2, 3, 4].map((i) => `departure ${i}`));
    expect(lines.map((l) => l.level)).toEqual([30, 30, 20, 20, 20]);
  });
});
