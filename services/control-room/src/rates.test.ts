import { describe, expect, it } from 'vitest';
import { createRates } from './rates.js';

describe('events per second', () => {
  it('averages each key over the window and forgets keys that went quiet', () => {
    const rates = createRates(10);
    const t0 = 1_000_000;
    for (let i = 0; i < 50; i++) rates.add('a', t0 + i * 100); // 10 a second for 5 s
    rates.add('b', t0);
    expect(rates.perSecond(t0 + 5_000)).toEqual([
      { key: 'a', perSecond: 5 },
      { key: 'b', perSecond: 0.1 },
    ]);
    expect(rates.perSecond(t0 + 12_000)).toEqual([{ key: 'a', perSecond: 2 }]);
    expect(rates.perSecond(t0 + 20_000)).toEqual([]);
  });
});
