import { createHash, randomUUID } from 'node:crypto';

/** A fresh id for an event that starts a chain (a scan at a gate). */
export function newEventId(): string {
  return randomUUID();
}

/**
 * A name-based id: the same inputs always give the same id, across processes and restarts.
 * Formatted as an RFC 9562 version 8 UUID built from SHA-256, so it reads like the random ids.
 */
export function deriveEventId(...parts: ReadonlyArray<string | number | Uint8Array>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' || typeof part === 'number' ? Buffer.from(String(part)) : part;
    // Length-prefix each part so ("ab","c") and ("a","bc") differ.
    hash.update(`${bytes.length}:`).update(bytes);
  }
  const b = hash.digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
