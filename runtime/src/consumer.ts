import {
  deadLetterTopic,
  deriveEventId,
  eventTopic,
  idFromBytes,
  parseEvent,
  schemas,
  toAppError,
  type ConsumedBy,
  type DeadLetter,
  type Event,
  type EventMessage,
  type EventName,
  type PublishedBy,
  type ServiceName,
} from '@spectrum-grocers/contract';
import type { Bus, MessageHandler } from './bus.js';
import type { Logger } from './logger.js';
import type { Metrics, Outcome } from './metrics.js';
import type { Outbox, Outgoing } from './outbox.js';
import { shortId } from './pretty.js';
import type { Db } from './store.js';
import { backoffDelay, sleep } from './timers.js';

/**
 * Turns one parsed event into the events to publish (`{ event, payload }`: the runtime builds
 * their topics). It runs inside the SQLite transaction that records the event as processed, so
 * its own writes commit (or roll back) with it. Throw a non-retryable AppError to refuse the
 * event (it goes to dead-letter).
 */
export type EventHandler<E extends EventName, P extends EventName = EventName> = (
  event: Event<E>,
) => readonly EventMessage<P>[];

/**
 * One handler for each event a service consumes, as the catalog says, and only those: a
 * handler of any other event is a type error, even where TypeScript would not check excess
 * properties (an object returned by a function).
 */
export type Routes<S extends ServiceName = ServiceName> = {
  readonly [E in ConsumedBy<S>]: EventHandler<E, PublishedBy<S>>;
} & { readonly [E in Exclude<EventName, ConsumedBy<S>>]?: never };

/** Any service's routes, as the consumer takes them. */
type AnyRoutes = { readonly [E in EventName]?: EventHandler<E> };

export interface ConsumerStats {
  received: number;
  handled: number;
  duplicates: number;
  deadLettered: number;
}

export interface Consumer {
  readonly stats: Readonly<ConsumerStats>;
  start(): Promise<void>;
}

export interface ConsumerDeps {
  bus: Bus;
  db: Db;
  outbox: Outbox;
  log: Logger;
  routes: AnyRoutes;
  metrics?: Metrics;
}

/** What handling one message leaves to publish: the handler's events, or one dead letter. */
type Produced = { events: readonly EventMessage[] } | { deadLetter: Outgoing };

function rawPayload(bytes: Buffer): Pick<DeadLetter, 'payload' | 'encoding' | 'payload_bytes' | 'truncated'> {
  const kept = bytes.subarray(0, schemas.DEAD_LETTER_PAYLOAD_BYTES);
  const size = { payload_bytes: bytes.length, truncated: kept.length < bytes.length };
  const text = kept.toString('utf8');
  return Buffer.from(text, 'utf8').equals(kept)
    ? { payload: text, encoding: 'utf8', ...size }
    : { payload: kept.toString('base64'), encoding: 'base64', ...size };
}

/**
 * Idempotent, acknowledged-after-commit message handling for a consuming service:
 * parse → (already processed? skip) → handler → record processed + outbox in one transaction
 * → acknowledge → the outbox relay publishes. Refused input goes to dead-letter the same way.
 */
export function createConsumer({ bus, db, outbox, log, routes, metrics }: ConsumerDeps): Consumer {
  const { service, topics: root, maxPayloadBytes } = bus.config;
  const stats: ConsumerStats = { received: 0, handled: 0, duplicates: 0, deadLettered: 0 };
  const byTopic = new Map<string, EventName>((Object.keys(routes) as EventName[]).map((e) => [eventTopic(root, e), e]));
  // Keyed by topic too: an event_id is unique within its kind only, and a service may read several.
  const seen = db.prepare<[string, string], { outcome: string }>(
    'SELECT outcome FROM processed_events WHERE topic = ? AND event_id = ?',
  );
  const record = db.prepare(
    'INSERT INTO processed_events (event_id, topic, outcome, processed_at) VALUES (?, ?, ?, ?)',
  );

  const commit = db.transaction(
    (eventId: string, topic: string, outcome: 'handled' | 'dead-letter', produce: () => Produced) => {
      if (seen.get(topic, eventId)) return false;
      const out = produce();
      record.run(eventId, topic, outcome, new Date().toISOString());
      if ('deadLetter' in out) outbox.enqueue([out.deadLetter]);
      else outbox.emit(out.events);
      return true;
    },
  );

  function deadLetter(sourceId: string, topic: string, bytes: Buffer, reason: string): Outgoing {
    const letter: DeadLetter = {
      // The refused message's kind counts: two kinds may share an event_id, and each gets its letter.
      event_id: deriveEventId(service, 'dead-letter', topic, sourceId),
      timestamp: new Date().toISOString(),
      service,
      reason,
      topic,
      ...rawPayload(bytes),
    };
    return { topic: deadLetterTopic(root, service), eventId: letter.event_id, payload: letter };
  }

  function refuse(event: EventName, sourceId: string, topic: string, bytes: Buffer, reason: string): Outcome {
    if (commit(sourceId, topic, 'dead-letter', () => ({ deadLetter: deadLetter(sourceId, topic, bytes, reason) }))) {
      stats.deadLettered++;
      metrics?.deadLetters.inc({ topic });
      // One message per event kind, so a publisher sending garbage is counted, not echoed.
      log.warn({ topic, eventId: sourceId, reason }, `refused a ${event} message; sent to dead-letter`);
      return 'dead_letter';
    }
    stats.duplicates++;
    return 'duplicate';
  }

  function handleOnce(topic: string, bytes: Buffer): Outcome {
    const event = byTopic.get(topic);
    if (event === undefined) {
      log.warn({ topic, repeatKey: 'topic' }, 'message on a topic with no handler; acknowledged and ignored');
      return 'ignored';
    }
    if (bytes.length > maxPayloadBytes) {
      const reason = `payload of ${bytes.length} bytes is over the ${maxPayloadBytes}-byte limit (MAX_PAYLOAD_BYTES)`;
      return refuse(event, idFromBytes(bytes), topic, bytes, reason);
    }
    const parsed = parseEvent(event, bytes);
    if (!parsed.ok) return refuse(event, idFromBytes(bytes), topic, bytes, parsed.reason);
    const handler = routes[event] as EventHandler<typeof event>;
    const id = parsed.value.event_id;
    try {
      // The handler logs the event's one info line; the runtime's detail is at debug.
      if (commit(id, topic, 'handled', () => ({ events: handler(parsed.value) }))) {
        stats.handled++;
        log.debug({ topic, eventId: id }, `${event} ${shortId(id)} handled`);
        return 'handled';
      }
      stats.duplicates++;
      log.info({ topic, eventId: id }, `${event} ${shortId(id)}: duplicate, already handled`);
      return 'duplicate';
    } catch (err) {
      const e = toAppError(err);
      if (e.retryable) throw e;
      return refuse(event, id, topic, bytes, `${e.code}: ${e.message}`);
    }
  }

  const onMessage: MessageHandler = async (topic, payload) => {
    stats.received++;
    const timer = metrics?.handlerSeconds.startTimer({ topic });
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = handleOnce(topic, payload);
        timer?.();
        metrics?.eventsIn.inc({ topic, outcome });
        outbox.kick();
        return;
      } catch (err) {
        const e = toAppError(err);
        // Stopping, or cut off from the broker: leave it unacknowledged for a redelivery.
        if (bus.isClosing() || (!bus.isConnected() && attempt > 0)) throw e;
        const delay = backoffDelay(attempt, 50, 5000);
        log.error({ err: e, topic, attempt, delayMs: delay }, 'handling failed; retrying');
        await sleep(delay);
      }
    }
  };

  return {
    stats,
    async start() {
      outbox.kick();
      await bus.consume([...byTopic.keys()], onMessage);
    },
  };
}
