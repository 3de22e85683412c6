import { z } from 'zod';
import type { Db } from '@spectrum-grocers/runtime';
import { safeJson } from './trace.js';

/** A payment as the page lists it: who (by name when a welcome gave one), how much, when. */
export interface PaymentRow {
  event_id: string;
  timestamp: string | null;
  customer_id: number;
  customer_name: string | null;
  amount: number;
}

/** A restock alert, and the delivery that answered it once one has. */
export interface AlertRow {
  event_id: string;
  timestamp: string | null;
  product_id: number;
  product: string | null;
  /** What inventory-intel counted when it raised the alert. */
  quantity: number;
  delivery: { event_id: string; quantity: number; timestamp: string | null } | null;
}

export interface DeliveryRow {
  event_id: string;
  timestamp: string | null;
  delivery_id: string;
  product_id: number;
  product: string | null;
  quantity: number;
  /** The restock alert it answers, when it answers one. */
  alert_id: string | null;
}

/** A dead letter as the operator reads it: who refused what, and why. */
export interface DeadLetterRow {
  event_id: string;
  timestamp: string | null;
  service: string;
  reason: string;
  /** The topic of the refused message. */
  topic: string;
}

/** The most of a reason the page shows: a letter from the wire may say anything, at any length. */
export const MAX_REASON_CHARS = 500;

/** A dead letter read leniently: a letter from another publisher may lack any field, or be no JSON. */
const LetterHead = z.object({
  reason: z.string().optional().catch(undefined),
  topic: z.string().optional().catch(undefined),
});

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export interface Views {
  payments(limit: number): PaymentRow[];
  restockAlerts(limit: number): AlertRow[];
  deliveries(limit: number): DeliveryRow[];
  deadLetters(limit: number): { total: number; byService: Record<string, number>; latest: DeadLetterRow[] };
}

/**
 * What the dashboard lists, newest first, read from the ledger's `event_log` (only events that
 * passed their schema, so their fields are there) with the names of `customers` and `stock`.
 */
export function createViews(db: Db): Views {
  const payments = db.prepare<[number], PaymentRow>(
    `SELECT e.event_id, e.timestamp, json_extract(e.payload, '$.customer_id') AS customer_id,
       c.name AS customer_name, json_extract(e.payload, '$.amount') AS amount
     FROM event_log e LEFT JOIN customers c ON c.customer_id = json_extract(e.payload, '$.customer_id')
     WHERE e.event = 'payment-due' AND e.valid = 1 ORDER BY e.received_at DESC, e.event_id LIMIT ?`,
  );
  const alerts = db.prepare<[number], Omit<AlertRow, 'delivery'>>(
    `SELECT e.event_id, e.timestamp, json_extract(e.payload, '$.item_id') AS product_id, s.name AS product,
       json_extract(e.payload, '$.quantity') AS quantity
     FROM event_log e LEFT JOIN stock s ON s.product_id = json_extract(e.payload, '$.item_id')
     WHERE e.event = 'restock-alert' AND e.valid = 1 ORDER BY e.received_at DESC, e.event_id LIMIT ?`,
  );
  const answer = db.prepare<[string], { event_id: string; quantity: number; timestamp: string | null }>(
    `SELECT event_id, json_extract(payload, '$.quantity') AS quantity, timestamp FROM event_log
     WHERE causation_id = ? AND event = 'stock-delivered' AND valid = 1 ORDER BY received_at LIMIT 1`,
  );
  const deliveries = db.prepare<[number], DeliveryRow>(
    `SELECT e.event_id, e.timestamp, json_extract(e.payload, '$.delivery_id') AS delivery_id,
       json_extract(e.payload, '$.product_id') AS product_id, s.name AS product,
       json_extract(e.payload, '$.quantity') AS quantity, e.causation_id AS alert_id
     FROM event_log e LEFT JOIN stock s ON s.product_id = json_extract(e.payload, '$.product_id')
     WHERE e.event = 'stock-delivered' AND e.valid = 1 ORDER BY e.received_at DESC, e.event_id LIMIT ?`,
  );
  const lettersByTopic = db.prepare<[], { topic: string; n: number }>(
    "SELECT topic, count(*) AS n FROM event_log WHERE event = 'dead-letter' GROUP BY topic",
  );
  const latestLetters = db.prepare<
    [number],
    { event_id: string; timestamp: string | null; topic: string; payload: string }
  >(
    `SELECT event_id, timestamp, topic, payload FROM event_log WHERE event = 'dead-letter'
     ORDER BY received_at DESC, event_id LIMIT ?`,
  );
  // The service a letter is filed under is the last level of its topic (…/dead-letter/<service>).
  const serviceOf = (topic: string) => topic.split('/').pop() ?? topic;

  return {
    payments: (limit) => payments.all(limit),
    restockAlerts: (limit) => alerts.all(limit).map((a) => ({ ...a, delivery: answer.get(a.event_id) ?? null })),
    deliveries: (limit) => deliveries.all(limit),
    deadLetters(limit) {
      const rows = lettersByTopic.all();
      const byService = Object.fromEntries(rows.map((r) => [serviceOf(r.topic), r.n]));
      const latest = latestLetters.all(limit).map((r): DeadLetterRow => {
        const head = LetterHead.safeParse(safeJson(r.payload)).data ?? {};
        return {
          event_id: r.event_id,
          timestamp: r.timestamp,
          // The topic's, not the letter's word: the broker lets only that service publish there.
          service: serviceOf(r.topic),
          reason: clip(head.reason ?? 'no reason given (not a dead letter of ours)', MAX_REASON_CHARS),
          topic: clip(head.topic ?? '', 300),
        };
      });
      return { total: rows.reduce((n, r) => n + r.n, 0), byService, latest };
    },
  };
}
