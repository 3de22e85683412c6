import { toAppError } from '@spectrum-grocers/contract';
import type { Bus, Delivery } from './bus.js';
import type { Logger } from './logger.js';
import { backoffDelay, sleep } from './timers.js';

/**
 * Commits each batch a consumer is handed, in the order handed: `commit` runs once the previous
 * batch's commit has, and is retried while it may pass (a busy database). The returned promise
 * settles with the batch's outcome once it is committed (not yet synced: see Durability).
 */
export type BatchCommits<T> = (batch: readonly Delivery[]) => Promise<T>;

/**
 * The one way a consumer of the bus commits its batches (the consumer's handlers, a forwarder's
 * outbox rows). With `batchesInProgress: 2` the bus hands over the next batch while the previous
 * one waits for its sync; it is applied only once the previous one is, so batches take effect in
 * the order they came, and a batch after one whose commit failed fails too (both come again).
 */
export function commitInOrder<T>(bus: Bus, log: Logger, commit: (batch: readonly Delivery[]) => T): BatchCommits<T> {
  /** Commit a batch, retrying what may pass until we stop or lose the broker. */
  async function withRetries(batch: readonly Delivery[]): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return commit(batch);
      } catch (err) {
        const e = toAppError(err);
        // Stopping, or cut off from the broker: leave it unacknowledged for a redelivery.
        if (bus.isClosing() || (!bus.isConnected() && attempt > 0)) throw e;
        const delay = backoffDelay(attempt, 50, 5000);
        log.error({ err: e, messages: batch.length, attempt, delayMs: delay }, 'handling failed; retrying');
        // A stop does not wait out the backoff: the batch stays unacknowledged for our next session.
        for (const until = Date.now() + delay; Date.now() < until && !bus.isClosing();) await sleep(50);
      }
    }
  }

  let last: Promise<unknown> = Promise.resolve();
  return (batch) => {
    const committed = last.then(() => withRetries(batch));
    last = committed;
    // A failed chain ends with its last batch: what comes after (a new connection) starts afresh.
    committed.catch(() => {
      if (last === committed) last = Promise.resolve();
    });
    return committed;
  };
}
