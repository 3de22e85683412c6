import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEvent, parseJson } from './parse.js';
import { createProductCatalog } from './products.js';
import { EVENT_NAMES, EVENTS } from './topics.js';

// Whatever arrives on the wire or in the environment: a typed result or a typed refusal,
// never a throw, never a prototype polluted. (Bad input, issue "Nothing lost ...".)
const RUNS = { numRuns: 500 };

const validDeparture = { timestamp: '2026-11-22T10:00:00Z', customer_id: 3, product_ids: [1, 2] };
const hostile = fc.oneof(
  fc.anything(),
  fc.constantFrom(-1, 0, 1.5, 2 ** 53, Number.MAX_VALUE, -0, '1', '', null, [], {}, true),
  fc.array(fc.integer(), { maxLength: 5 }),
);

describe('every parser, under arbitrary input', () => {
  it.each(EVENT_NAMES)('parseEvent(%s) never throws on arbitrary bytes, and what it accepts is valid', (event) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const r = parseEvent(event, Buffer.from(bytes));
        if (r.ok) expect(EVENTS[event].schema.safeParse(r.value).success).toBe(true);
        else expect(r.reason.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it.each(EVENT_NAMES)('parseEvent(%s) never throws on arbitrary JSON', (event) => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = parseEvent(event, Buffer.from(JSON.stringify(value) ?? 'null'));
        expect(r.ok || r.reason.length > 0).toBe(true);
      }),
      RUNS,
    );
  });

  it('accepts a departure with one field replaced only when that field is still valid', () => {
    fc.assert(
      fc.property(fc.constantFrom('timestamp', 'customer_id', 'product_ids', 'event_id'), hostile, (field, value) => {
        const r = parseEvent('customer-departure', Buffer.from(JSON.stringify({ ...validDeparture, [field]: value })));
        if (!r.ok) return;
        expect(Number.isSafeInteger(r.value.customer_id) && r.value.customer_id > 0).toBe(true);
        for (const id of r.value.product_ids) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
      }),
      RUNS,
    );
  });

  it('keeps __proto__ and constructor keys from polluting anything', () => {
    fc.assert(
      fc.property(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue(), (key, value) => {
        const text = `{"timestamp":"2026-11-22T10:00:00Z","customer_id":1,"product_ids":[],${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}}`;
        const r = parseEvent('customer-departure', Buffer.from(text));
        expect(r.ok).toBe(true);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.getPrototypeOf(r.ok ? r.value : {})).toBe(Object.prototype);
      }),
      RUNS,
    );
  });

  it('gives the same bytes the same derived event_id, and different bytes different ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 1e6 }), (a, b) => {
        const bytes = (id: number) => Buffer.from(`{"timestamp":"2026-11-22T10:00:00Z","customer_id":${id}}`);
        const idA = parseEvent('customer-arrival', bytes(a));
        const again = parseEvent('customer-arrival', bytes(a));
        const idB = parseEvent('customer-arrival', bytes(b));
        expect(idA.ok && again.ok && idA.value.event_id === again.value.event_id).toBe(true);
        if (a !== b) expect(idA.ok && idB.ok && idA.value.event_id !== idB.value.event_id).toBe(true);
      }),
      RUNS,
    );
  });

  it('parseJson refuses every non-UTF-8 byte sequence instead of guessing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const valid = Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
        const r = parseJson(buf);
        if (!valid) expect(!r.ok && r.reason).toBe('payload is not valid UTF-8');
      }),
      RUNS,
    );
  });

  it('createProductCatalog refuses any malformed catalog with one clear error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (data) => {
        try {
          createProductCatalog(data);
        } catch (err) {
          expect((err as Error).message).toMatch(/^invalid product catalog/);
        }
      }),
      RUNS,
    );
  });
});
