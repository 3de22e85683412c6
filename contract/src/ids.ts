import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

const encoder = new TextEncoder();

/** A fresh id for an event that starts a chain (a scan at a gate). */
export function newEventId(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * A name-based id: the same inputs always give the same id, across processes and restarts.
 * Formatted as an RFC 9562 version 8 UUID built from SHA-256, so it reads like the random ids.
 * The hash is plain JavaScript, so the contract runs wherever it is imported (a browser too).
 */
export function deriveEventId(...parts: ReadonlyArray<string | number | Uint8Array>): string {
  const hash = sha256.create();
  for (const part of parts) {
    const bytes = typeof part === 'string' || typeof part === 'number' ? encoder.encode(String(part)) : part;
    // Length-prefix each part so ("ab","c") and ("a","bc") differ.
    hash.update(encoder.encode(`${bytes.length}:`)).update(bytes);
  }
  const b = hash.digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytesToHex(b);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
