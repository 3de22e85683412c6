import { describe, expect, it } from 'vitest';
import { createSeries } from './series.js';

describe('events per second over the last minutes', () => {
  const t0 = 1_700_000_000_000;

  it('counts each whole second once it is over, from the moment the series started', () => {
    const series = createSeries(900, t0);
    expect(series.read(t0)).toEqual({ from: t0 / 1000, counts: [] });
    series.add(t0 + 100);
    series.add(t0 + 900);
    series.add(t0 + 2_500);
    expect(series.read(t0 + 2_999)).toEqual({ from: t0 / 1000, counts: [2, 0] });
    expect(series.read(t0 + 3_000)).toEqual({ from: t0 / 1000, counts: [2, 0, 1] });
  });

  it('keeps no more than its window, and reads a quiet spell as zeros', () => {
    const series = createSeries(10, t0);
    for (let s = 0; s < 25; s++) series.add(t0 + s * 1000);
    const full = series.read(t0 + 25_000);
    expect(full).toEqual({ from: t0 / 1000 + 15, counts: Array<number>(10).fill(1) });
    // Twenty quiet seconds later the window holds only the quiet, though the slots still hold old counts.
    expect(series.read(t0 + 45_000)).toEqual({ from: t0 / 1000 + 35, counts: Array<number>(10).fill(0) });
    series.add(t0 + 45_500);
    expect(series.read(t0 + 46_000).counts).toEqual([...Array<number>(9).fill(0), 1]);
  });
});
