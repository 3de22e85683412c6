import { type Logger } from '@spectrum-grocers/runtime';

/** The slice of aedes' persistence whose outgoing queues are bounded here. */
export interface OutgoingQueues {
  outgoingEnqueue(sub: { clientId: string }, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: unknown): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: unknown): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
}

export interface QueueBounds {
  /** Messages dropped since the start for sessions whose queue was full, by client id. */
  dropped(): ReadonlyMap<string, number>;
}

/**
 * Bound each persistent session's queue in aedes' `persistence` to `capOf(clientId)` messages:
 * beyond it a new message is not kept for that session (counted, and logged once per episode).
 * A connected client still gets it, unkept, as QoS 0 would: aedes asks to update the message it
 * is delivering, and without this would drop the client for a message it cannot find.
 */
export function boundQueues(
  persistence: OutgoingQueues,
  capOf: (clientId: string) => number,
  log: Logger,
): QueueBounds {
  const queued = new Map<string, number>();
  const dropped = new Map<string, number>();
  const full = new Set<string>(); // sessions that lost a message since they last had room

  function withRoom<S extends { clientId: string }>(subs: readonly S[]): S[] {
    const kept: S[] = [];
    for (const sub of subs) {
      const n = queued.get(sub.clientId) ?? 0;
      if (n < capOf(sub.clientId)) {
        queued.set(sub.clientId, n + 1);
        kept.push(sub);
        continue;
      }
      const lost = (dropped.get(sub.clientId) ?? 0) + 1;
      dropped.set(sub.clientId, lost);
      if (!full.has(sub.clientId) || lost % 1000 === 0) {
        full.add(sub.clientId);
        log.warn(
          { clientId: sub.clientId, queued: n, dropped: lost },
          'a persistent session is full; new messages for it are not kept until it takes some',
        );
      }
    }
    return kept;
  }

  const enqueue = persistence.outgoingEnqueue.bind(persistence);
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  const update = persistence.outgoingUpdate.bind(persistence);
  const clear = persistence.outgoingClearMessageId.bind(persistence);
  persistence.outgoingEnqueue = async (sub, packet) => {
    if (withRoom([sub]).length === 1) await enqueue(sub, packet);
  };
  persistence.outgoingEnqueueCombi = async (subs, packet) => {
    const kept = withRoom(subs);
    if (kept.length > 0) await enqueueCombi(kept, packet);
  };
  persistence.outgoingUpdate = async (client, packet) => {
    try {
      await update(client, packet);
    } catch (err) {
      // A message not kept for this session (it lost some before) goes out unkept; any other
      // failure is aedes' own.
      if (!dropped.has(client.id)) throw err;
    }
  };
  persistence.outgoingClearMessageId = async (client, packet) => {
    const cleared = await clear(client, packet);
    const n = queued.get(client.id) ?? 0;
    if (cleared !== undefined && n > 0) {
      if (n === 1) queued.delete(client.id);
      else queued.set(client.id, n - 1);
      full.delete(client.id); // room again: a later loss is said again
    }
    return cleared;
  };
  return { dropped: () => dropped };
}
