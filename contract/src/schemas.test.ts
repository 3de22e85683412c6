import { describe, expect, it } from 'vitest';
import { EVENTS } from './topics.js';
import { parseEvent } from './parse.js';

const bytes = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

// Payloads exactly as the original Python suite's message helpers produce them: no event_id,
// `datetime.now().isoformat()` timestamps (no offset, microseconds).
const python = {
  'customer-arrival': { timestamp: '2023-06-01T17:45:12.123456', customer_id: 3 },
  'customer-departure': { timestamp: '2023-06-01T17:58:40.654321', customer_id: 3, product_ids: [12, 7, 7] },
  'payment-due': { timestamp: '2023-06-01T17:58:40.700000', customer_id: 3, amount: 12.5 },
  'restock-alert': { timestamp: '2023-06-01T17:58:41.000000', item_id: 7, quantity: 4 },
} as const;

describe('event schemas', () => {
  it.each(Object.entries(python))(
    'accepts the original Python %s payload and derives an event_id',
    (event, payload) => {
      const parsed = parseEvent(event as keyof typeof python, bytes(payload));
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      expect(parsed.value).toMatchObject(payload);
      expect(parsed.value.event_id).toMatch(/^[0-9a-f-]{36}$/);
      // The same bytes redelivered get the same id.
      const again = parseEvent(event as keyof typeof python, bytes(payload));
      expect(again.ok && again.value.event_id).toBe(parsed.value.event_id);
    },
  );

  it('keeps an event_id that was sent', () => {
    const parsed = parseEvent('customer-arrival', bytes({ ...python['customer-arrival'], event_id: 'gate-1:42' }));
    expect(parsed.ok && parsed.value.event_id).toBe('gate-1:42');
  });

  it('accepts our payment-due with amount_cents and refuses one whose amount disagrees', () => {
    const ok = {
      event_id: 'p1',
      departure_event_id: 'd1',
      timestamp: '2026-01-01T10:00:00Z',
      customer_id: 1,
      amount: 12.34,
      amount_cents: 1234,
    };
    expect(EVENTS['payment-due'].schema.safeParse(ok).success).toBe(true);
    const bad = EVENTS['payment-due'].schema.safeParse({ ...ok, amount: 12.35 });
    expect(bad.success).toBe(false);
  });

  it('accepts a display-welcome for an unknown customer (name null)', () => {
    const ok = {
      event_id: 'w1',
      timestamp: '2026-01-01T10:00:00Z',
      customer_id: 99,
      name: null,
      message: 'Welcome to Fresh Frontier!',
    };
    expect(EVENTS['display-welcome'].schema.safeParse(ok).success).toBe(true);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['a string customer_id', { timestamp: '2026-01-01T10:00:00Z', customer_id: '3' }, /customer_id/],
    ['a negative customer_id', { timestamp: '2026-01-01T10:00:00Z', customer_id: -1 }, /customer_id/],
    ['a fractional customer_id', { timestamp: '2026-01-01T10:00:00Z', customer_id: 1.5 }, /customer_id/],
    ['an unsafe customer_id', { timestamp: '2026-01-01T10:00:00Z', customer_id: 2 ** 60 }, /customer_id/],
    ['a missing timestamp', { customer_id: 3 }, /timestamp/],
    ['a timestamp that is not ISO-8601', { timestamp: 'yesterday', customer_id: 3 }, /timestamp/],
    ['an event_id with spaces', { timestamp: '2026-01-01T10:00:00Z', customer_id: 3, event_id: 'a b' }, /event_id/],
    ['an array', [1, 2], /JSON object/],
    ['null', null, /JSON object/],
  ];
  it.each(bad)('refuses a customer-arrival with %s, naming the field', (_, payload, reason) => {
    const parsed = parseEvent('customer-arrival', bytes(payload));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('refuses a departure with a non-integer product id, naming its index', () => {
    const parsed = parseEvent(
      'customer-departure',
      bytes({ timestamp: '2026-01-01T10:00:00Z', customer_id: 1, product_ids: [1, 'x'] }),
    );
    expect(!parsed.ok && parsed.reason).toMatch(/product_ids\.1/);
  });

  it('refuses a basket larger than the limit', () => {
    const product_ids = Array.from({ length: 1001 }, () => 1);
    const parsed = parseEvent(
      'customer-departure',
      bytes({ timestamp: '2026-01-01T10:00:00Z', customer_id: 1, product_ids }),
    );
    expect(!parsed.ok && parsed.reason).toMatch(/product_ids/);
  });

  it('refuses invalid JSON and non-UTF-8 bytes with a reason', () => {
    const json = parseEvent('customer-arrival', Buffer.from('{"customer_id": 1,'));
    expect(!json.ok && json.reason).toMatch(/not valid JSON/);
    const binary = parseEvent('customer-arrival', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(!binary.ok && binary.reason).toMatch(/UTF-8/);
  });

  it('drops a __proto__ key instead of polluting prototypes', () => {
    const parsed = parseEvent(
      'customer-arrival',
      Buffer.from('{"timestamp":"2026-01-01T10:00:00Z","customer_id":1,"__proto__":{"polluted":true}}'),
    );
    expect(parsed.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parsed.ok && Object.keys(parsed.value)).not.toContain('__proto__');
  });

  it('takes a price change only with a decision time that names its offset, and a price in whole cents', () => {
    const ok = { timestamp: '2026-11-25T09:00:00+01:00', product_id: 3, price_cents: 199 };
    expect(parseEvent('price-change', bytes(ok)).ok).toBe(true);
    for (const bad of [
      { ...ok, timestamp: '2026-11-25T09:00:00' }, // local time: which of two decisions came later is unknowable
      { ...ok, price_cents: 1.5 },
      { ...ok, price_cents: -1 },
      { ...ok, price_cents: 10_000_001 },
      { ...ok, product_id: 0 },
      { timestamp: ok.timestamp, product_id: 3 },
    ]) {
      expect(parseEvent('price-change', bytes(bad)).ok, JSON.stringify(bad)).toBe(false);
    }
  });
});
