import type { z } from 'zod';
import { CustomerArrival, CustomerDeparture, DisplayWelcome, PaymentDue, RestockAlert } from './schemas.js';

export const SERVICES = [
  'gateway-guardian',
  'hello-helper',
  'gateexit-guardian',
  'inventory-intel',
  'fastlane-finale',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * The business events of the store: who publishes each, who consumes it, and its payload.
 * Topic strings, the broker ACL and the README topic table all come from this one catalog.
 */
export const EVENTS = {
  /** A loyalty card was scanned at the entrance. */
  'customer-arrival': {
    schema: CustomerArrival,
    publisher: 'gateway-guardian',
    subscribers: ['hello-helper'],
    summary: 'A loyalty card was scanned at the entry gate',
  },
  /** A customer left through the exit gate with the scanned products in the bag. */
  'customer-departure': {
    schema: CustomerDeparture,
    publisher: 'gateexit-guardian',
    subscribers: ['inventory-intel', 'fastlane-finale'],
    summary: 'A customer left; the exit gate scanned their card and every product in the bag',
  },
  /** The basket of one departure, priced: the customer owes this amount. */
  'payment-due': {
    schema: PaymentDue,
    publisher: 'fastlane-finale',
    subscribers: [],
    summary: 'The priced basket of one departure; the customer owes this amount',
  },
  /** A product's stock fell below its restock threshold. */
  'restock-alert': {
    schema: RestockAlert,
    publisher: 'inventory-intel',
    subscribers: [],
    summary: "A product's stock fell below its restock threshold",
  },
  /** What the entrance screen shows for one arrival. */
  'display-welcome': {
    schema: DisplayWelcome,
    publisher: 'hello-helper',
    subscribers: [],
    summary: 'The greeting the entrance display shows for one arrival',
  },
} as const satisfies Record<
  string,
  { schema: z.ZodType; publisher: ServiceName; subscribers: readonly ServiceName[]; summary: string }
>;

export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

/** A payload as it may arrive on the wire (our added fields optional). */
export type WireEvent<E extends EventName> = z.output<(typeof EVENTS)[E]['schema']>;
/** A payload after parsing: it always has an `event_id` (sent or derived). */
export type Event<E extends EventName> = WireEvent<E> & { event_id: string };

/** Where a store's topics live: `{chain}/{store}/...`. */
export interface TopicRoot {
  readonly chain: string;
  readonly store: string;
}

export function eventTopic(root: TopicRoot, event: EventName): string {
  return `${root.chain}/${root.store}/${event}`;
}

/** Retained `online`/`offline` of one service; the offline one is also its last will. */
export function statusTopic(root: TopicRoot, service: string): string {
  return `${root.chain}/${root.store}/status/${service}`;
}

/** Every message a service refused, with the reason, the topic and the raw payload. */
export function deadLetterTopic(root: TopicRoot, service: string): string {
  return `${root.chain}/${root.store}/dead-letter/${service}`;
}

/** The events a service consumes, from the catalog. */
export function subscriptionsOf(service: ServiceName): EventName[] {
  return EVENT_NAMES.filter((e) => (EVENTS[e].subscribers as readonly string[]).includes(service));
}

/** The events a service publishes, from the catalog. */
export function publicationsOf(service: ServiceName): EventName[] {
  return EVENT_NAMES.filter((e) => EVENTS[e].publisher === service);
}
