import { EVENT_NAMES, EVENTS, schemas, type EventName } from '@spectrum-grocers/contract';
import { z } from 'zod';
import { ErrorBody, route, type Db, type HttpRoute } from '@spectrum-grocers/runtime';
import type { Ledger, StoredEvent } from './ledger.js';

export interface TraceNode {
  event_id: string;
  event: string;
  timestamp: string | null;
  payload: unknown;
  /** True for the event asked about. */
  asked: boolean;
  /** The name of the customer the event is about, when it is about one and a welcome named them. */
  customer_name?: string;
  effects: TraceNode[];
}

const MAX_TRACE_DEPTH = 20;
const MAX_TRACE_NODES = 1000;
/** What the control room keeps: the business events and the dead letters. */
const KINDS: readonly string[] = [...EVENT_NAMES, 'dead-letter'];

function isEventName(event: string): event is EventName {
  return (EVENT_NAMES as string[]).includes(event);
}

/**
 * The kinds of event that can cause one of kind `event`, as the topic catalog says (a payment-due
 * or a restock-alert is caused by a customer-departure, a delivery by a restock alert, a
 * display-welcome by a customer-arrival, the gates' events by nothing). A `causation_id` is an
 * event_id, unique within its kind only, so a cause is looked up among these kinds alone.
 */
export function causesOf(event: string): readonly string[] {
  return isEventName(event) ? EVENTS[event].causedBy : [];
}

/** The kinds of event one of kind `event` can cause. */
export function effectsOf(event: string): readonly string[] {
  return EVENT_NAMES.filter((e) => (EVENTS[e].causedBy as readonly string[]).includes(event));
}

/** A stored payload as JSON, or as the text it is (an invalid event is kept as received). */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** How the tracer finds kept events: the ledger's own lookups. */
export interface EventLookups {
  /** Every event kept under `eventId`, whatever its kind. */
  readonly byId: (eventId: string) => StoredEvent[];
  /** The event of kind `event` kept under `eventId`. */
  readonly byKey: (eventId: string, event: string) => StoredEvent | undefined;
  /** A customer's name, as a welcome gave it. */
  readonly nameOf: (customerId: number) => string | undefined;
}

/** The customer an event is about: a positive integer `customer_id` in its payload. */
function customerOf(payload: unknown): number | undefined {
  const id =
    typeof payload === 'object' && payload !== null ? (payload as { customer_id?: unknown }).customer_id : undefined;
  return Number.isSafeInteger(id) && (id as number) > 0 ? (id as number) : undefined;
}

/** The causal chain of one kept event: from its first cause down to everything it caused. */
export function createTracer(
  db: Db,
  { byId, byKey, nameOf }: EventLookups,
): (event: string, eventId: string) => TraceNode | undefined {
  const byCause = db.prepare<[string], StoredEvent>(
    'SELECT * FROM event_log WHERE causation_id = ? ORDER BY received_at, event_id',
  );
  const causeOf = (row: StoredEvent): StoredEvent | undefined => {
    const kinds = causesOf(row.event);
    return row.causation_id ? byId(row.causation_id).find((cause) => kinds.includes(cause.event)) : undefined;
  };
  const effectsOfRow = (row: StoredEvent): StoredEvent[] => {
    const kinds = effectsOf(row.event);
    return byCause.all(row.event_id).filter((effect) => kinds.includes(effect.event));
  };

  function node(row: StoredEvent, asked: StoredEvent, budget: { left: number }, depth: number): TraceNode {
    budget.left--;
    const effects =
      depth >= MAX_TRACE_DEPTH
        ? []
        : effectsOfRow(row)
            .filter(() => budget.left > 0)
            .map((child) => node(child, asked, budget, depth + 1));
    const payload = safeJson(row.payload);
    const customer = customerOf(payload);
    const name = customer === undefined ? undefined : nameOf(customer);
    return {
      event_id: row.event_id,
      event: row.event,
      timestamp: row.timestamp,
      payload,
      asked: row.event === asked.event && row.event_id === asked.event_id,
      ...(name !== undefined && { customer_name: name }),
      effects,
    };
  }

  return (event, eventId) => {
    const asked = byKey(eventId, event);
    if (!asked) return undefined;
    let root = asked;
    for (let depth = 0; depth < MAX_TRACE_DEPTH; depth++) {
      const cause = causeOf(root);
      if (!cause) break;
      root = cause;
    }
    return node(root, asked, { left: MAX_TRACE_NODES }, 0);
  };
}

/** A node of a trace as the document shows it: its effects are nodes alike. */
const TraceBody = z.looseObject({
  event_id: z.string(),
  event: z.string(),
  timestamp: z.string().nullable(),
  payload: z.unknown(),
  asked: z.boolean().describe('True for the event asked about'),
  customer_name: z.string().optional().describe('The name of the customer the event is about, when a welcome gave one'),
  effects: z.array(z.unknown()).describe('The events it caused, each a node like this one'),
});

/**
 * GET /api/trace?event_id=<id>[&event=<kind>]. An event_id is unique within its kind only: when
 * kinds share the id asked for, `event` picks one (409 naming them without it).
 */
export function createTraceRoute(ledger: Pick<Ledger, 'find' | 'trace'>): HttpRoute {
  return route({
    method: 'GET',
    path: '/api/trace',
    summary: 'The causal chain of one kept event: from its first cause down to everything it caused',
    query: z.object({ event_id: z.string().optional(), event: z.string().optional() }),
    responses: {
      200: TraceBody,
      400: ErrorBody,
      404: ErrorBody,
      409: ErrorBody.extend({ events: z.array(z.string()).describe('The kinds sharing the event_id') }),
    },
    handler: ({ query }) => {
      const id = query.event_id ?? '';
      const event = query.event;
      if (!schemas.EventId.safeParse(id).success) {
        return { status: 400, body: { error: 'event_id must be given: ?event_id=<id>' } };
      }
      if (event !== undefined && !KINDS.includes(event)) {
        return { status: 400, body: { error: `event must be one of ${KINDS.join(', ')}` } };
      }
      const found = ledger.find(id, event);
      if (found.length === 0) {
        return { status: 404, body: { error: `no ${event ?? 'event'} ${id} in the control room's store` } };
      }
      if (found.length > 1) {
        const events = found.map((e) => e.event);
        const error = `${events.length} events share event_id ${id} (${events.join(', ')}): add &event=<one of them>`;
        return { status: 409, body: { error, events } };
      }
      // Spread: a TraceNode as a plain object, with whatever fields a node has besides those documented.
      return { status: 200, body: { ...ledger.trace(found[0]!.event, id)! } };
    },
  });
}
