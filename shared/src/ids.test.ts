import { describe, expect, it } from 'vitest';
import { deriveEventId, newEventId } from './ids.js';

describe('event ids', () => {
  it('derives the same id from the same parts, every time', () => {
    expect(deriveEventId('payment-due', 'd-1')).toBe(deriveEventId('payment-due', 'd-1'));
  });

  it('derives different ids from different parts, including shifted boundaries', () => {
    expect(deriveEventId('payment-due', 'd-1')).not.toBe(deriveEventId('payment-due', 'd-2'));
    expect(deriveEventId('ab', 'c')).not.toBe(deriveEventId('a', 'bc'));
  });

  it('formats derived ids as RFC 9562 version 8 UUIDs', () => {
    expect(deriveEventId('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('makes fresh random ids for new scans', () => {
    expect(newEventId()).not.toBe(newEventId());
  });
});
