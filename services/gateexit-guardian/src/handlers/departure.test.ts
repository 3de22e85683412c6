import { describe, expect, it } from 'vitest';
import { parseEvent } from '@spectrum-grocers/contract';
import { simulatedDeparture } from './departure.js';

/** A repeatable random source: the same sequence of numbers in [0, 1) every run. */
function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('gateexit-guardian: simulated departure', () => {
  const shape = { maxCustomerId: 10, maxProductId: 100, maxItems: 10 };

  it('scans 1..maxItems products of ids 1..maxProductId for a customer 1..maxCustomerId', () => {
    const random = seeded(7);
    for (let i = 0; i < 500; i++) {
      const d = simulatedDeparture(new Date(), random, shape);
      expect(d.customer_id).toBeGreaterThanOrEqual(1);
      expect(d.customer_id).toBeLessThanOrEqual(10);
      expect(d.product_ids.length).toBeGreaterThanOrEqual(1);
      expect(d.product_ids.length).toBeLessThanOrEqual(10);
      for (const id of d.product_ids) expect(id >= 1 && id <= 100).toBe(true);
    }
  });

  it('reaches both ends of every range', () => {
    const random = seeded(11);
    const all = Array.from({ length: 2000 }, () => simulatedDeparture(new Date(), random, shape));
    const ids = all.flatMap((d) => d.product_ids);
    expect(Math.min(...ids)).toBe(1);
    expect(Math.max(...ids)).toBe(100);
    expect(Math.max(...all.map((d) => d.product_ids.length))).toBe(10);
  });

  it('produces a payload its own schema accepts', () => {
    const d = simulatedDeparture(new Date(), seeded(3), shape);
    expect(parseEvent('customer-departure', Buffer.from(JSON.stringify(d))).ok).toBe(true);
  });
});
