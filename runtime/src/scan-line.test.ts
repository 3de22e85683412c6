import { describe, expect, it } from 'vitest';
import { scanLine } from './gate.js';

const timestamp = '2026-11-24T19:28:28.992Z';
const event_id = '1f3a9c2e-56ff-4d80-9b63-fe24f7c30f80';

describe("a gate's log line for a scan", () => {
  it('names a departure by its short id, its customer and how many items', () => {
    expect(scanLine({ event_id, timestamp, customer_id: 7, product_ids: [1, 2, 2] }, 'scanned')).toBe(
      'departure 1f3a9c2e customer 7: 3 items scanned',
    );
    expect(scanLine({ event_id, timestamp, customer_id: 7, product_ids: [4] }, 'scanned')).toBe(
      'departure 1f3a9c2e customer 7: 1 item scanned',
    );
  });

  // Regression: a simulated scan was logged as `Pub to <topic>` followed by the topic and the whole scan.
  it('names an arrival by its short id and customer, without its topic', () => {
    expect(scanLine({ event_id, timestamp, customer_id: 2 }, 'scanned (simulated)')).toBe(
      'arrival 1f3a9c2e customer 2: scanned (simulated)',
    );
  });
});
