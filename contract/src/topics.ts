import type { z } from 'zod';
import {
  CustomerArrival,
  CustomerDeparture,
  DisplayWelcome,
  PaymentDue,
  PriceChange,
  RestockAlert,
  StockDelivered,
} from './schemas.js';
import { ALL_STORES, type HqServiceName, type ServiceName } from './services.js';

/**
 * The business events of the chain: who publishes each, who consumes it, its payload, and where
 * it travels. Topic strings, the brokers' ACL and bridge, the AsyncAPI document and the README
 * topic table all come from this one catalog.
 *
 * `travels`: `store` stays in the store; `up` is forwarded by each store's uplink to the head
 * office (HQ); `down` comes from HQ into the store (`chainWide`: also on
 * `{chain}/all-stores/{event}`, to every store at once). Statuses and dead letters go up too.
 */
export const EVENTS = {
  /** A loyalty card was scanned at the entrance. */
  'customer-arrival': {
    schema: CustomerArrival,
    publisher: 'gateway-guardian',
    subscribers: ['hello-helper'],
    causedBy: [],
    travels: 'store',
    summary: 'A loyalty card was scanned at the entry gate',
  },
  /** A customer left through the exit gate with the scanned products in the bag. */
  'customer-departure': {
    schema: CustomerDeparture,
    publisher: 'gateexit-guardian',
    subscribers: ['inventory-intel', 'fastlane-finale'],
    causedBy: [],
    travels: 'store',
    summary: 'A customer left; the exit gate scanned their card and every product in the bag',
  },
  /** The basket of one departure, priced: the customer owes this amount. */
  'payment-due': {
    schema: PaymentDue,
    publisher: 'fastlane-finale',
    subscribers: ['head-office'],
    causedBy: ['customer-departure'],
    travels: 'up',
    summary: 'The priced basket of one departure; the customer owes this amount',
  },
  /** A product's stock fell below its restock threshold. */
  'restock-alert': {
    schema: RestockAlert,
    publisher: 'inventory-intel',
    subscribers: ['logistics', 'head-office'],
    causedBy: ['customer-departure'],
    travels: 'up',
    summary: "A product's stock fell below its restock threshold",
  },
  /**
   * Goods arrived for one product. inventory-intel publishes the deliveries it is told of
   * (POST /deliveries, its simulated supplier) and raises its stock from this topic only, so a
   * delivery the head office's logistics sends down takes the same path. The head office's ledger
   * reads the deliveries logistics sends, as they leave HQ.
   */
  'stock-delivered': {
    schema: StockDelivered,
    publisher: 'inventory-intel',
    subscribers: ['inventory-intel', 'head-office'],
    causedBy: ['restock-alert'],
    travels: 'down',
    alsoFrom: 'logistics',
    summary: 'Goods arrived for one product; raises its stock once per delivery_id',
  },
  /** What the entrance screen shows for one arrival. */
  'display-welcome': {
    schema: DisplayWelcome,
    publisher: 'hello-helper',
    subscribers: [],
    causedBy: ['customer-arrival'],
    travels: 'store',
    summary: 'The greeting the entrance display shows for one arrival',
  },
  /**
   * The head office sets a product's price for one store or the whole chain; fastlane-finale
   * bills at it from then on. Of two changes to one product, the later decision wins.
   */
  'price-change': {
    schema: PriceChange,
    publisher: 'head-office',
    subscribers: ['fastlane-finale'],
    causedBy: [],
    travels: 'down',
    chainWide: true,
    summary: "The head office sets one product's price, for one store or the whole chain",
  },
} as const satisfies Record<
  string,
  {
    schema: z.ZodType;
    publisher: ServiceName | HqServiceName;
    subscribers: readonly (ServiceName | HqServiceName)[];
    /** The kinds of event whose `event_id` this one's `causation_id` may name. */
    causedBy: readonly string[];
    travels: 'store' | 'up' | 'down';
    /** A second publisher, at HQ, of an event a store's service also publishes. */
    alsoFrom?: HqServiceName;
    /** Also sent to every store at once, on `{chain}/all-stores/{event}`. */
    chainWide?: true;
    summary: string;
  }
>;

export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

/** A payload as it may arrive on the wire (our added fields optional). */
export type WireEvent<E extends EventName> = z.output<(typeof EVENTS)[E]['schema']>;
/** A payload after parsing: it always has an `event_id` (sent or derived). */
export type Event<E extends EventName> = WireEvent<E> & { event_id: string };

/** One event with its payload: what a handler returns, and what the runtime publishes on its topic. */
export type EventMessage<E extends EventName = EventName> = {
  [K in E]: { readonly event: K; readonly payload: Event<K> };
}[E];

/** The events the catalog says `S` publishes. */
export type PublishedBy<S extends ServiceName | HqServiceName> = {
  [E in EventName]: (typeof EVENTS)[E]['publisher'] extends S ? E : never;
}[EventName];

/** The events the catalog says `S` consumes. */
export type ConsumedBy<S extends ServiceName | HqServiceName> = {
  [E in EventName]: S extends (typeof EVENTS)[E]['subscribers'][number] ? E : never;
}[EventName];

/** Where a store's topics live: `{chain}/{store}/...`. */
export interface TopicRoot {
  readonly chain: string;
  readonly store: string;
}

export function eventTopic(root: TopicRoot, event: EventName): string {
  return `${root.chain}/${root.store}/${event}`;
}

/** Where the head office speaks to every store at once: `{chain}/all-stores/{event}`. */
export function chainWideTopic(chain: string, event: EventName): string {
  return `${chain}/${ALL_STORES}/${event}`;
}

/** Every topic a store's consumer of `event` reads: its own, and the chain-wide one if any. */
export function eventTopics(root: TopicRoot, event: EventName): string[] {
  const own = eventTopic(root, event);
  return 'chainWide' in EVENTS[event] ? [own, chainWideTopic(root.chain, event)] : [own];
}

/** The events of one direction of a store's uplink. */
export function eventsTravelling(direction: 'up' | 'down'): EventName[] {
  return EVENT_NAMES.filter((e) => EVENTS[e].travels === direction);
}

/**
 * What a store's uplink forwards to HQ: its `up` events, every status and every dead letter
 * (topic filters on the store's broker, the same topics at HQ).
 */
export function uplinkFilters(root: TopicRoot): string[] {
  return [
    ...eventsTravelling('up').map((e) => eventTopic(root, e)),
    statusTopic(root, '+'),
    deadLetterTopic(root, '+'),
  ];
}

/** What a store's uplink brings down from HQ: its `down` events, its own and the chain-wide ones. */
export function downlinkTopics(root: TopicRoot): string[] {
  return eventsTravelling('down').flatMap((e) => eventTopics(root, e));
}

/** Retained `online`/`offline` of one service; the offline one is also its last will. */
export function statusTopic(root: TopicRoot, service: string): string {
  return `${root.chain}/${root.store}/status/${service}`;
}

/** Every message a service refused, with the reason, the topic and the raw payload. */
export function deadLetterTopic(root: TopicRoot, service: string): string {
  return `${root.chain}/${root.store}/dead-letter/${service}`;
}

/** Every topic of one store, for a watcher: `{chain}/{store}/#`. */
export function storeFilter(root: TopicRoot): string {
  return `${root.chain}/${root.store}/#`;
}

/** Every topic of the chain, for the watcher accounts' ACL. */
export function chainFilter(root: TopicRoot): string {
  return `${root.chain}/#`;
}

/** What a topic of one store carries: the inverse of the topic builders above. */
export type TopicKind =
  | { kind: 'event'; event: EventName }
  | { kind: 'status'; service: string }
  | { kind: 'dead-letter'; service: string }
  | { kind: 'other' };

export function parseTopic(root: TopicRoot, topic: string): TopicKind {
  const chainWide = `${root.chain}/${ALL_STORES}/`;
  if (topic.startsWith(chainWide)) {
    const event = topic.slice(chainWide.length);
    return Object.hasOwn(EVENTS, event) && 'chainWide' in EVENTS[event as EventName]
      ? { kind: 'event', event: event as EventName }
      : { kind: 'other' };
  }
  const prefix = `${root.chain}/${root.store}/`;
  if (!topic.startsWith(prefix)) return { kind: 'other' };
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length === 1 && Object.hasOwn(EVENTS, rest[0]!)) return { kind: 'event', event: rest[0] as EventName };
  if (rest.length === 2 && rest[0] === 'status') return { kind: 'status', service: rest[1]! };
  if (rest.length === 2 && rest[0] === 'dead-letter') return { kind: 'dead-letter', service: rest[1]! };
  return { kind: 'other' };
}

/** The events a service consumes, from the catalog. */
export function subscriptionsOf<S extends ServiceName | HqServiceName>(service: S): ConsumedBy<S>[] {
  return EVENT_NAMES.filter((e) => (EVENTS[e].subscribers as readonly string[]).includes(service)) as ConsumedBy<S>[];
}

/** The events a service publishes, from the catalog. */
export function publicationsOf<S extends ServiceName | HqServiceName>(service: S): PublishedBy<S>[] {
  return EVENT_NAMES.filter((e) => EVENTS[e].publisher === service) as PublishedBy<S>[];
}
