import { idFromBytes, parseJson, schemas } from '@spectrum-grocers/contract';
import type { BatchHandler, Bus, Delivery } from './bus.js';
import { commitInOrder } from './batch-commits.js';
import { immediateDurability, type Durability } from './commit.js';
import type { Logger } from './logger.js';
import type { Metrics, Outcome } from './metrics.js';
import type { Outbox } from './outbox.js';
import type { Db } from './store.js';

export interface ForwarderStats {
  received: number;
  forwarded: number;
  /** Already forwarded (the same `event_id`, or the same bytes, on the same topic): dropped. */
  duplicates: number;
  /** Not JSON, or too large: not forwarded, acknowledged. */
  refused: number;
  /** Transactions committed, each holding one batch. */
  batches: number;
  largestBatch: number;
}

export interface ForwarderDeps {
  /** The broker connection it reads from. */
  from: Bus;
  /** Its own SQLite store: what it has forwarded, and the outbox to the other broker. */
  db: Db;
  /** The relay to the other broker: `createOutbox(db, <that broker's bus>, …)`. */
  outbox: Outbox;
  /** When a commit is on disk: a batch is acknowledged only then. Default: at once. */
  durability?: Durability;
  log: Logger;
  metrics?: Metrics;
  /**
   * Whether a topic's messages are retained where they go (a state: the latest one counts). The
   * flag a message arrives with cannot tell: a retained message published while we are
   * subscribed comes with retain 0 [MQTT-3.3.1-9], so it is the topic that decides.
   */
  retain?: (topic: string) => boolean;
}

export interface Forwarder {
  readonly stats: Readonly<ForwarderStats>;
  /** Subscribe to `filters` on `from` and forward what comes, until the bus is closed. */
  start(filters: readonly string[]): Promise<void>;
}

/** What became of one message, as the metrics count it: forwarded is `handled`, refused `ignored`. */
type Fate = Extract<Outcome, 'handled' | 'duplicate' | 'ignored'>;

/**
 * A topic-agnostic consumer that moves messages from one broker to another, once each and
 * losing none: each batch is recorded as processed (keyed by topic and `event_id`, or an id of
 * its bytes when it has none, as the consumer does) and put in an outbox to the other broker in
 * one transaction, and acknowledged once that is on disk. The payload goes on byte for byte, as
 * a broker's bridge would send it; only JSON travels (the chain's wire format).
 */
export function createForwarder({
  from,
  db,
  outbox,
  log,
  metrics,
  retain = () => false,
  durability = immediateDurability(),
}: ForwarderDeps): Forwarder {
  const { maxPayloadBytes } = from.config;
  const stats: ForwarderStats = { received: 0, forwarded: 0, duplicates: 0, refused: 0, batches: 0, largestBatch: 0 };
  const record = db.prepare(
    'INSERT OR IGNORE INTO processed_events (event_id, topic, outcome, processed_at) VALUES (?, ?, ?, ?)',
  );
  const forgetOthers = db.prepare('DELETE FROM processed_events WHERE topic = ? AND event_id <> ?');

  function refuse(topic: string, bytes: Buffer, reason: string): Fate {
    // Nothing is recorded: a copy redelivered is refused again, and said again.
    log.warn({ topic, bytes: bytes.length, reason, repeatKey: 'topic' }, 'message not forwarded');
    return 'ignored';
  }

  function forwardOnce({ topic, payload }: Delivery, at: string): Fate {
    if (payload.length > maxPayloadBytes) {
      return refuse(topic, payload, `over the ${maxPayloadBytes}-byte limit (MAX_PAYLOAD_BYTES)`);
    }
    const json = parseJson(payload);
    if (!json.ok) return refuse(topic, payload, json.reason);
    const given = (json.value as { event_id?: unknown } | null)?.event_id;
    const eventId = schemas.EventId.safeParse(given).success ? (given as string) : idFromBytes(payload);
    const retained = retain(topic);
    // A retained topic holds a state, and a state comes back: a service's last will is the same
    // bytes each time its connection drops. Such a message repeats only the last one forwarded
    // on its topic, not any before it (which also keeps one row per retained topic).
    if (retained) forgetOthers.run(topic, eventId);
    if (record.run(eventId, topic, 'handled', at).changes === 0) return 'duplicate';
    // parseJson decoded it as UTF-8 without loss: the text is the bytes.
    outbox.enqueue([{ topic, eventId, json: payload.toString('utf8'), retain: retained }]);
    return 'handled';
  }

  /** One transaction per batch: one sync for all of it. */
  const commitBatch = db.transaction((batch: readonly Delivery[]) => {
    const at = new Date().toISOString();
    return batch.map((d) => forwardOnce(d, at));
  });
  const commitNext = commitInOrder(from, log, commitBatch);

  function count(batch: readonly Delivery[], fates: readonly Fate[], arrived: number): void {
    stats.batches++;
    stats.largestBatch = Math.max(stats.largestBatch, batch.length);
    fates.forEach((fate, i) => {
      if (fate === 'handled') stats.forwarded++;
      else if (fate === 'duplicate') stats.duplicates++;
      else stats.refused++;
      metrics?.eventsIn.inc({ topic: batch[i]!.topic, outcome: fate });
    });
    metrics?.batchSeconds.observe((performance.now() - arrived) / 1000);
    metrics?.batchMessages.observe(batch.length);
  }

  const onBatch: BatchHandler = async (batch) => {
    stats.received += batch.length;
    const arrived = performance.now();
    const fates = await commitNext(batch);
    // Acknowledged (when this resolves) only once the rows are on disk.
    await durability.durable();
    count(batch, fates, arrived);
    outbox.kick();
  };

  return {
    stats,
    async start(filters) {
      // What a previous run committed and did not publish goes first.
      outbox.kick();
      await from.consume(filters, onBatch, { maxInFlight: from.config.maxInFlight, batchesInProgress: 2 });
    },
  };
}
