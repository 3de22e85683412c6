import type { z } from 'zod';
import { deriveEventId } from './ids.js';
import { EVENTS, type Event, type EventMessage, type EventName } from './topics.js';

export type ParseResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      /** One line naming what is wrong, e.g. `product_ids.3: expected int, received string`. */
      reason: string;
    };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The id a message without `event_id` gets: derived from its raw bytes, so a redelivery keeps it. */
export function idFromBytes(bytes: Uint8Array): string {
  return deriveEventId('raw', bytes);
}

/** Bytes to a JSON value; refuses non-UTF-8 and invalid JSON with a reason. Never throws. */
export function parseJson(bytes: Uint8Array): ParseResult<unknown> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'payload is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, reason: `payload is not valid JSON: ${(err as Error).message}` };
  }
}

/** zod issues as one line: `path: message; path: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
}

/** Validate a JSON value against an event's schema, filling a missing `event_id`. */
export function validateEvent<E extends EventName>(
  event: E,
  value: unknown,
  fallbackId: () => string,
): ParseResult<Event<E>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'payload must be a JSON object' };
  }
  const result = EVENTS[event].schema.safeParse(value);
  if (!result.success) return { ok: false, reason: describeIssues(result.error) };
  const parsed = result.data as Event<E>;
  return { ok: true, value: { ...parsed, event_id: parsed.event_id ?? fallbackId() } };
}

/**
 * Raw MQTT payload to a typed event, or a typed failure. A payload without our `event_id`
 * (an original Python publisher sends none) gets one derived from its bytes.
 */
export function parseEvent<E extends EventName>(event: E, bytes: Uint8Array): ParseResult<Event<E>> {
  const json = parseJson(bytes);
  if (!json.ok) return json;
  return validateEvent(event, json.value, () => idFromBytes(bytes));
}

/** Raw payload of `event` to the tagged message a `switch (message.event)` narrows, or a typed failure. */
export function parseMessage(event: EventName, bytes: Uint8Array): ParseResult<EventMessage> {
  const parsed = parseEvent(event, bytes);
  return parsed.ok ? { ok: true, value: { event, payload: parsed.value } as EventMessage } : parsed;
}
