import {
  AppError,
  deadLetterTopic,
  deriveEventId,
  eventTopics,
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
import type { BatchHandler, Bus, Delivery } from './bus.js';
import type { Logger } from './logger.js';
import type { Metrics, Outcome } from './metrics.js';
import { immediateDurability, type Durability } from './commit.js';
import type { Outbox, Outgoing } from './outbox.js';
import { commitInOrder } from './batch-commits.js';
import { shortId } from './pretty.js';
import type { Db } from './store.js';

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
  /** Transactions committed, each holding the outcome of one batch of messages. */
  batches: number;
  /** The most messages one committed batch held. */
  largestBatch: number;
}

export interface Consumer {
  readonly stats: Readonly<ConsumerStats>;
  start(): Promise<void>;
}

export interface ConsumerDeps {
  bus: Bus;
  db: Db;
  outbox: Outbox;
  /** When a commit is on disk: a batch is acknowledged only then. Default: at once (SQLite syncs itself). */
  durability?: Durability;
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
 * `FAILPOINT=kill-after-commit:N`, for the fault suite: die by SIGKILL once the N-th batch is
 * committed and on disk, before any of it is acknowledged (its outbox events may be on their
 * way already, and the next batch may be committed behind it). Anything else set there is a
 * mistake worth a loud start.
 */
function killAfterCommit(spec: string | undefined, log: Logger): ((messages: number) => void) | undefined {
  if (spec === undefined || spec === '') return undefined;
  const m = /^kill-after-commit:([1-9]\d{0,8})$/.exec(spec);
  if (!m)
    throw new AppError('CONFIG_INVALID', `FAILPOINT: expected kill-after-commit:<N>, got ${JSON.stringify(spec)}`);
  let left = Number(m[1]);
  return (messages) => {
    if (--left > 0) return;
    log.error(
      { batch: messages },
      'failpoint kill-after-commit: killing the process between commit and acknowledgements',
    );
    process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * Idempotent, acknowledged-after-commit message handling for a consuming service:
 * parse → (already processed? skip) → handler → record processed + outbox in one transaction
 * → acknowledge → the outbox relay publishes. Refused input goes to dead-letter the same way.
 */
export function createConsumer({
  bus,
  db,
  outbox,
  log,
  routes,
  metrics,
  durability = immediateDurability(),
}: ConsumerDeps): Consumer {
  const { service, topics: root, maxPayloadBytes } = bus.config;
  const debug = log.isLevelEnabled('debug');
  const failpoint = killAfterCommit(process.env.FAILPOINT, log);
  const stats: ConsumerStats = { received: 0, handled: 0, duplicates: 0, deadLettered: 0, batches: 0, largestBatch: 0 };
  const byTopic = new Map<string, EventName>(
    (Object.keys(routes) as EventName[]).flatMap((e) => eventTopics(root, e).map((t) => [t, e] as const)),
  );
  // Keyed by topic too: an event_id is unique within its kind only, and a service may read several.
  // One statement both claims an event and tells a duplicate (no row inserted): a handler that
  // then throws undoes the claim with its savepoint.
  const record = db.prepare(
    'INSERT OR IGNORE INTO processed_events (event_id, topic, outcome, processed_at) VALUES (?, ?, ?, ?)',
  );

  const commit = db.transaction(
    (eventId: string, topic: string, outcome: 'handled' | 'dead-letter', produce: () => Produced) => {
      if (record.run(eventId, topic, outcome, new Date().toISOString()).changes === 0) return false;
      const out = produce();
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
      // One message per event kind, so a publisher sending garbage is counted, not echoed.
      log.warn({ topic, eventId: sourceId, reason }, `refused a ${event} message; sent to dead-letter`);
      return 'dead_letter';
    }
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
        if (debug) log.debug({ topic, eventId: id }, `${event} ${shortId(id)} handled`);
        return 'handled';
      }
      log.info({ topic, eventId: id }, `${event} ${shortId(id)}: duplicate, already handled`);
      return 'duplicate';
    } catch (err) {
      const e = toAppError(err);
      if (e.retryable) throw e;
      return refuse(event, id, topic, bytes, `${e.code}: ${e.message}`);
    }
  }

  /** One transaction for a whole batch: one fsync, each message in a savepoint of its own. */
  const commitBatch = db.transaction((batch: readonly Delivery[]) => batch.map((d) => handleOnce(d.topic, d.payload)));

  function count(batch: readonly Delivery[], outcomes: readonly Outcome[], arrived: number): void {
    stats.batches++;
    stats.largestBatch = Math.max(stats.largestBatch, batch.length);
    const tally = new Map<string, number>();
    outcomes.forEach((outcome, i) => {
      if (outcome === 'handled') stats.handled++;
      else if (outcome === 'duplicate') stats.duplicates++;
      else if (outcome === 'dead_letter') stats.deadLettered++;
      if (!metrics) return;
      const key = `${outcome}\n${batch[i]!.topic}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    });
    if (!metrics) return;
    const seconds = (performance.now() - arrived) / 1000;
    for (const [key, n] of tally) {
      const [outcome, topic] = key.split('\n') as [Outcome, string];
      metrics.eventsIn.inc({ topic, outcome }, n);
      if (outcome === 'dead_letter') metrics.deadLetters.inc({ topic }, n);
    }
    metrics.batchSeconds.observe(seconds);
    metrics.batchMessages.observe(batch.length);
  }

  /**
   * Batches are applied in the order they came, one after the other's commit (a batch after a
   * failed one fails too): see commitInOrder.
   */
  const commitNext = commitInOrder(bus, log, commitBatch);

  const onBatch: BatchHandler = async (batch) => {
    stats.received += batch.length;
    const arrived = performance.now();
    const outcomes = await commitNext(batch);
    // One sync for this batch and whatever committed while the previous one was syncing. A failed
    // sync stops the service (Durability.failed): nothing after it can be trusted.
    await durability.durable();
    if (failpoint) {
      // The batch before this one, synced by the same sync, is acknowledged first: the kill
      // leaves this batch (and the one applied behind it) committed and unacknowledged.
      await new Promise((resolve) => setImmediate(resolve));
      failpoint(batch.length);
    }
    count(batch, outcomes, arrived);
    outbox.kick();
  };

  return {
    stats,
    async start() {
      outbox.kick();
      await bus.consume([...byTopic.keys()], onBatch, { maxInFlight: bus.config.maxInFlight, batchesInProgress: 2 });
    },
  };
}
