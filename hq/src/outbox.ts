import { toAppError } from '@spectrum-grocers/contract';
import type { Bus, Logger } from '@spectrum-grocers/runtime';
import type { Pool } from './db.js';

const BATCH = 256;
/** How long a publish waits for its PUBACK before the row is left for the next look. */
const PUBACK_MS = 10_000;

/**
 * Publishes a service's outbox at QoS 1, the rows of the given stores that are due, and marks
 * them sent once the broker acknowledged each. A row published and not yet marked when the
 * replica dies is published again by the next owner of its store: the stores drop the copy by
 * its event_id.
 */
export function createHqOutbox(deps: { pool: Pool; bus: Bus; service: string; log: Logger }) {
  const { pool, bus, service, log } = deps;
  let sent = 0;
  // A broker that never answers must not hold the replica's looks (and its stores' work) with it.
  const publish = (topic: string, payload: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no PUBACK within ${PUBACK_MS} ms`)), PUBACK_MS);
      bus.send(topic, payload, { retain: false }, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });

  return {
    get sent() {
      return sent;
    },
    /** Publish what is due for `stores`; resolves to how many went out. */
    async send(stores: readonly string[]): Promise<number> {
      let total = 0;
      while (stores.length > 0 && bus.isConnected()) {
        const due = await pool.query<{ seq: string; topic: string; payload: string }>(
          `SELECT seq, topic, payload FROM outbox
            WHERE service = $1 AND store = ANY($2) AND sent_at IS NULL AND publish_after <= now()
            ORDER BY seq LIMIT $3`,
          [service, stores, BATCH],
        );
        if (due.rows.length === 0) break;
        const results = await Promise.allSettled(due.rows.map((r) => publish(r.topic, r.payload)));
        const acked = due.rows.filter((_, i) => results[i]!.status === 'fulfilled').map((r) => r.seq);
        if (acked.length > 0) {
          await pool.query('UPDATE outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])', [acked]);
        }
        sent += acked.length;
        total += acked.length;
        if (acked.length < due.rows.length) {
          const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          log.warn(
            { err: toAppError(failed?.reason), unsent: due.rows.length - acked.length },
            'outbox publish failed; will retry',
          );
          break;
        }
        if (due.rows.length < BATCH) break;
      }
      return total;
    },
  };
}
