/** How long a repeated warning is counted before its count is printed. */
export const REPEAT_WINDOW_MS = 60_000;

/**
 * Kinds of warning tracked at once. A flood of distinct warnings beyond it is printed as it
 * comes: better noisy than a map that grows without bound.
 */
const MAX_KINDS = 1000;

/** Prints the count of a kind of warning: how many were held back over how many seconds. */
export type Summarise = (count: number, seconds: number) => void;

export interface RepeatFilter {
  /**
   * Whether to print a warning of kind `key` now: yes for the first of its kind, no (counted)
   * for a repeat while that kind is being counted. `summarise` prints the count; the latest
   * one given is used.
   */
  admit(key: string, summarise: Summarise): boolean;
  /** Print every count held (the process is ending) and forget every kind. */
  flush(): void;
}

interface Kind {
  count: number;
  since: number;
  timer: NodeJS.Timeout;
  summarise: Summarise;
}

/** The filters holding counts, printed when the process exits so no count is lost. */
const holding = new Set<RepeatFilter>();
let flushOnExit = false;

function hold(filter: RepeatFilter): void {
  holding.add(filter);
  if (flushOnExit) return;
  flushOnExit = true;
  process.once('exit', () => {
    for (const f of holding) f.flush();
  });
}

/**
 * A warning repeated hundreds of times drowns the log it is meant to stand out in. The first of
 * a kind is printed; repeats are counted, and every `windowMs` the count is printed
 * (`… repeated 312 times in the last 60 s`) for as long as they keep coming. A kind quiet for a
 * whole window is forgotten: its next warning is printed in full again.
 */
export function createRepeatFilter(windowMs = REPEAT_WINDOW_MS, now: () => number = Date.now): RepeatFilter {
  const kinds = new Map<string, Kind>();

  function close(key: string, kind: Kind): void {
    if (kind.count === 0) {
      kinds.delete(key);
      if (kinds.size === 0) holding.delete(filter);
      return;
    }
    const { count, since } = kind;
    kind.count = 0;
    kind.since = now();
    kind.timer = setTimeout(() => close(key, kind), windowMs).unref();
    kind.summarise(count, Math.round((kind.since - since) / 1000));
  }

  const filter: RepeatFilter = {
    admit(key, summarise) {
      const kind = kinds.get(key);
      if (kind) {
        kind.count++;
        kind.summarise = summarise;
        return false;
      }
      if (kinds.size >= MAX_KINDS) return true;
      const fresh: Kind = { count: 0, since: now(), summarise, timer: setTimeout(() => close(key, fresh), windowMs) };
      fresh.timer.unref();
      kinds.set(key, fresh);
      hold(filter);
      return true;
    },
    flush() {
      const held = [...kinds.values()];
      kinds.clear();
      holding.delete(filter);
      const at = now();
      for (const kind of held) {
        clearTimeout(kind.timer);
        if (kind.count > 0) kind.summarise(kind.count, Math.round((at - kind.since) / 1000));
      }
    },
  };
  return filter;
}
