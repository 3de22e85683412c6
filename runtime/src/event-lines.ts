import type { Logger } from './logger.js';
import { counted } from './pretty.js';

/** Event lines printed at info per second; the rest go to debug and are counted. */
export const EVENT_LINES_PER_S = 20;
/** How often the count of lines held back is printed. */
export const EVENT_SUMMARY_MS = 10_000;

/** Prints one line about one event: `fields` and the sentence a person reads. */
export type EventLine = (fields: Record<string, unknown>, msg: string) => void;

/**
 * One info line per event while a person can read them; past `perSecond` in a second, the
 * rest are printed at debug only and counted, and every `summaryMs` the count is printed
 * (`… 18,312 more departures in the last 10 s: LOG_LEVEL=debug prints each`). At store pace
 * (a scan every few seconds) every event has its line; at wire speed the log costs a few
 * lines a second instead of a JSON line and a write per message.
 */
export function eventLines(
  log: Logger,
  noun: string,
  { perSecond = EVENT_LINES_PER_S, summaryMs = EVENT_SUMMARY_MS, now = Date.now } = {},
): EventLine {
  let second = 0;
  let printed = 0;
  let held = 0;
  let since = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushOnExit = false;

  function summarise(): void {
    timer = undefined;
    if (held === 0) return;
    const seconds = Math.max(1, Math.round((now() - since) / 1000));
    log.info(
      { heldBack: held, windowS: seconds },
      `… ${counted(held, `more ${noun}`)} in the last ${seconds} s: LOG_LEVEL=debug prints each`,
    );
    held = 0;
  }
  const flush = (): void => {
    clearTimeout(timer);
    summarise();
  };

  return (fields, msg) => {
    const t = now();
    if (t - second >= 1000) {
      second = t;
      printed = 0;
    }
    if (printed < perSecond) {
      printed++;
      log.info(fields, msg);
      return;
    }
    log.debug(fields, msg);
    if (held++ === 0) since = t;
    timer ??= setTimeout(summarise, summaryMs).unref();
    if (!flushOnExit) {
      flushOnExit = true;
      process.once('exit', flush);
    }
  };
}
