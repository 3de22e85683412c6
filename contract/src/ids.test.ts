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

  // Stored ids (payments, alerts, ids of messages sent without one) must survive an upgrade:
  // a departure redelivered after it must derive the payment it derived before.
  it('derives the ids it has always derived', () => {
    expect(deriveEventId('payment-due', 'd-1')).toBe('8f70c110-69a8-8744-b750-576d06e5b151');
    expect(deriveEventId('raw', new Uint8Array([0, 255, 1]))).toBe('1cd14679-4527-85cf-9beb-da818e86c58b');
    expect(deriveEventId('restock-alert', 'e', 7)).toBe('c6a05789-1433-8e3b-83c4-7f6bf2120e8d');
  });

  it('makes fresh random ids for new scans', () => {
    expect(newEventId()).not.toBe(newEventId());
  });
});
