import { describe, expect, it } from 'vitest';
import { parseEvent } from '@spectrum-grocers/contract';
import { simulatedArrival } from './arrival.js';

describe('gateway-guardian: simulated arrival', () => {
  it('scans a customer 1..max, reaching both ends', () => {
    let i = 0;
    const steps = [0, 0.5, 0.999999];
    const ids = steps.map(() => simulatedArrival(new Date(), () => steps[i++]!, 10).customer_id);
    expect(ids).toEqual([1, 6, 10]);
  });

  it('produces a payload in the original format that its schema accepts', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    const a = simulatedArrival(now, Math.random, 10);
    expect(Object.keys(a).sort()).toEqual(['customer_id', 'timestamp']);
    expect(a.timestamp).toBe(now.toISOString());
    expect(parseEvent('customer-arrival', Buffer.from(JSON.stringify(a))).ok).toBe(true);
  });
});
