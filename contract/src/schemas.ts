import { z } from 'zod';

/**
 * Payload schemas. The original Python suite's fields keep their names and meaning; the fields
 * we add are optional on the way in, so an original publisher's messages are accepted as sent.
 */

/** A database id as the original sends it: a positive JSON integer. */
export const Id = z.int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * ISO-8601 timestamp. Python's `datetime.now().isoformat()` has no offset and microseconds,
 * so local times and any precision are accepted.
 */
export const Timestamp = z.iso.datetime({ offset: true, local: true });

/** Our event ids: UUIDs from us, or any short token from another publisher. */
export const EventId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must contain only letters, digits and . _ : -');

/**
 * The `event_id` of the event that caused this one (departure → payment-due and restock-alert,
 * arrival → display-welcome), so that a chain of events can be traced back to its source.
 */
export const CausationId = EventId.optional();

/** The most products one departure may carry: a very full trolley, not a warehouse. */
export const MAX_BASKET_ITEMS = 1000;

export const CustomerArrival = z.object({
  event_id: EventId.optional(),
  timestamp: Timestamp,
  customer_id: Id,
});

export const CustomerDeparture = z.object({
  event_id: EventId.optional(),
  timestamp: Timestamp,
  customer_id: Id,
  product_ids: z.array(Id).max(MAX_BASKET_ITEMS),
});

export const PaymentDue = z
  .object({
    event_id: EventId.optional(),
    departure_event_id: EventId.optional(),
    causation_id: CausationId,
    timestamp: Timestamp,
    customer_id: Id,
    amount: z.number().nonnegative().finite(),
    amount_cents: z.int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine((p) => p.amount_cents === undefined || Math.round(p.amount * 100) === p.amount_cents, {
    message: 'amount must equal amount_cents / 100',
    path: ['amount'],
  });

export const RestockAlert = z.object({
  event_id: EventId.optional(),
  causation_id: CausationId,
  timestamp: Timestamp,
  item_id: Id,
  quantity: z.int().nonnegative(),
  threshold: z.int().nonnegative().optional(),
});

/** The most units one delivery may bring: a lorry, not a warehouse. */
export const MAX_DELIVERY_QUANTITY = 100_000;

/**
 * Goods arrived for one product. `delivery_id` is the supplier's (or head office's) reference:
 * a delivery raises the stock once however often it is sent, and a second, different delivery
 * under the same id is refused.
 */
export const StockDelivered = z.object({
  event_id: EventId.optional(),
  /** The restock alert this delivery answers, when it answers one. */
  causation_id: CausationId,
  timestamp: Timestamp,
  delivery_id: EventId,
  product_id: Id,
  quantity: z.int().positive().max(MAX_DELIVERY_QUANTITY),
});

/** The highest price one product may have: $100,000.00. */
export const MAX_PRICE_CENTS = 10_000_000;

/**
 * The head office sets one product's price, for one store (`{chain}/{store}/price-change`) or
 * for the whole chain (`{chain}/all-stores/price-change`). `timestamp` is when the decision was
 * taken: of two changes to one product, the later decision wins whichever arrives first, so a
 * store applies them in any order to the same result.
 */
export const PriceChange = z.object({
  event_id: EventId.optional(),
  timestamp: z.iso.datetime({ offset: true }),
  product_id: Id,
  price_cents: z.int().nonnegative().max(MAX_PRICE_CENTS),
});

export const DisplayWelcome = z.object({
  event_id: EventId,
  causation_id: CausationId,
  timestamp: Timestamp,
  customer_id: Id,
  name: z.string().max(200).nullable(),
  message: z.string().min(1).max(500),
});

export const ServiceStatus = z.object({
  service: z.string(),
  status: z.enum(['online', 'offline']),
  timestamp: Timestamp,
});

export const DeadLetter = z.object({
  event_id: EventId,
  timestamp: Timestamp,
  service: z.string(),
  reason: z.string(),
  topic: z.string(),
  payload: z.string(),
  encoding: z.enum(['utf8', 'base64']),
  /** Size of the refused payload; `payload` holds at most its first DEAD_LETTER_PAYLOAD_BYTES. */
  payload_bytes: z.int().nonnegative(),
  truncated: z.boolean(),
});

/** How much of a refused payload a dead letter carries. */
export const DEAD_LETTER_PAYLOAD_BYTES = 16 * 1024;

export type ServiceStatus = z.infer<typeof ServiceStatus>;
export type DeadLetter = z.infer<typeof DeadLetter>;
