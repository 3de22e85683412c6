/** The last `from + i` seconds' counts: `counts[i]` messages in epoch second `from + i`. */
export interface SeriesWindow {
  /** Epoch second of the first count. */
  from: number;
  counts: number[];
}

/** Messages counted per second over a fixed window, in memory bounded by the window. */
export interface Series {
  add(now?: number): void;
  /** The whole seconds of the window that are over (the current one is still counting), oldest first. */
  read(now?: number): SeriesWindow;
}

/** The chart's window: the last 15 minutes. */
export const SERIES_WINDOW_S = 15 * 60;

/**
 * A ring of per-second counts, one slot per second of the window: a slot found holding an older
 * second is reset before it counts again, so a quiet spell reads as zeros without a timer. The
 * window starts when the series does: the control room cannot count what it did not see.
 */
export function createSeries(windowS = SERIES_WINDOW_S, start = Date.now()): Series {
  const counts = new Uint32Array(windowS);
  const seconds = new Float64Array(windowS).fill(-1);
  const startS = Math.floor(start / 1000);
  const slotOf = (s: number) => ((s % windowS) + windowS) % windowS;
  return {
    add(now = Date.now()) {
      const s = Math.floor(now / 1000);
      const slot = slotOf(s);
      if (seconds[slot] !== s) {
        seconds[slot] = s;
        counts[slot] = 0;
      }
      counts[slot]! += 1;
    },
    read(now = Date.now()) {
      const nowS = Math.floor(now / 1000);
      const from = Math.max(startS, nowS - windowS);
      const out: number[] = [];
      for (let s = from; s < nowS; s++) {
        const slot = slotOf(s);
        out.push(seconds[slot] === s ? counts[slot]! : 0);
      }
      return { from, counts: out };
    },
  };
}
