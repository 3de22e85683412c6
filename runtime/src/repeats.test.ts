import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type Logger } from './logger.js';
import { createRepeatFilter } from './repeats.js';

const MINUTE = 60_000;

interface Line {
  level: number;
  msg: string;
  repeats?: number;
  windowS?: number;
  productId?: number;
}

/** A logger at `level` whose lines land in `lines`, counting repeats over a minute. */
function captured(level = 'info'): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = createLogger(
    { service: 'test', log: { level, format: 'json' } },
    { repeatWindowMs: MINUTE, write: (line) => lines.push(JSON.parse(line) as Line) },
  );
  return { log, lines };
}

const ANOMALY = 'stock anomaly: more taken than in stock; clamped at 0';

describe('repeated warnings', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  // Regression: after an hour the stock anomaly warning had been printed hundreds of times.
  it('prints a warning once, then its count once a minute, not each repeat', () => {
    const { log, lines } = captured();
    for (let i = 0; i < 313; i++) log.warn({ productId: i % 5, taken: 2, stock: 0 }, ANOMALY);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: ANOMALY, productId: 0 })]);
    vi.advanceTimersByTime(MINUTE);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      level: 40,
      msg: `${ANOMALY} (repeated 312 times in the last 60 s)`,
      repeats: 312,
      windowS: 60,
    });
  });

  it('keeps summarising while the repeats go on, and prints the warning anew after a quiet minute', () => {
    const { log, lines } = captured();
    log.warn(ANOMALY);
    for (let minute = 0; minute < 3; minute++) {
      for (let i = 0; i < 10; i++) log.warn(ANOMALY);
      vi.advanceTimersByTime(MINUTE);
    }
    expect(lines.map((l) => l.repeats)).toEqual([undefined, 10, 10, 10]);
    vi.advanceTimersByTime(MINUTE); // a minute without one: forgotten
    log.warn(ANOMALY);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatchObject({ msg: ANOMALY });
    expect(lines[4]!.repeats).toBeUndefined();
  });

  it('counts each message, and each value of the fields repeatKey names, apart', () => {
    const { log, lines } = captured();
    for (let i = 0; i < 5; i++) {
      log.warn({ productId: 7, eventId: `e${i}`, repeatKey: 'productId' }, ANOMALY);
      log.warn({ productId: 9, eventId: `f${i}`, repeatKey: 'productId' }, ANOMALY);
      log.warn('outbox publish failed; will retry');
    }
    expect(lines.map((l) => l.productId ?? l.msg)).toEqual([7, 9, 'outbox publish failed; will retry']);
    vi.advanceTimersByTime(MINUTE);
    expect(lines.slice(3).map((l) => [l.productId ?? l.msg.slice(0, 6), l.repeats])).toEqual([
      [7, 4],
      [9, 4],
      ['outbox', 4],
    ]);
  });

  it('never holds back an error, an info line or a debug line', () => {
    const { log, lines } = captured('debug');
    for (let i = 0; i < 50; i++) {
      log.error('handler failed; forcing redelivery');
      log.info('duplicate event ignored');
      log.debug('handled');
    }
    expect(lines).toHaveLength(150);
    vi.advanceTimersByTime(MINUTE);
    expect(lines).toHaveLength(150);
  });

  it('prints a single warning once, with no summary after it', () => {
    const { log, lines } = captured();
    log.warn(ANOMALY);
    vi.advanceTimersByTime(5 * MINUTE);
    expect(lines).toHaveLength(1);
  });

  it('prints the counts it holds when flushed, over the seconds they cover', () => {
    const filter = createRepeatFilter(MINUTE);
    const printed: Array<[number, number]> = [];
    const summarise = (count: number, seconds: number) => printed.push([count, seconds]);
    expect(filter.admit('a', summarise)).toBe(true);
    vi.advanceTimersByTime(20_000);
    expect([filter.admit('a', summarise), filter.admit('a', summarise)]).toEqual([false, false]);
    filter.flush();
    expect(printed).toEqual([[2, 20]]);
    vi.advanceTimersByTime(5 * MINUTE);
    expect(printed).toHaveLength(1);
    expect(filter.admit('a', summarise)).toBe(true);
    filter.flush();
  });

  it('says nothing of held repeats once the logger is silenced', () => {
    const { log, lines } = captured();
    log.warn(ANOMALY);
    log.warn(ANOMALY);
    log.level = 'silent';
    vi.advanceTimersByTime(MINUTE);
    expect(lines).toHaveLength(1);
  });
});
