import type { Client } from 'aedes';
import type { Logger } from '@spectrum-grocers/shared';

/**
 * What any one client can make the embedded broker hold. aedes keeps every persistent session
 * and its queued messages in memory for as long as the process runs, with no limit of its own;
 * without these, a few hundred idle sessions and a day's traffic fill the machine.
 */
export interface BrokerLimits {
  /** Connected clients besides the store's own processes; the store's own are always let in. */
  readonly maxClients: number;
  /** Persistent sessions besides the store's own processes' (e.g. an observer's `clean: false`). */
  readonly maxSessions: number;
  /** Messages queued for one of the store's own persistent sessions (its backlog while it is down). */
  readonly maxQueued: number;
  /** Messages queued for any other persistent session (as Mosquitto's default max_queued_messages). */
  readonly maxQueuedOther: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  maxClients: 256,
  maxSessions: 16,
  maxQueued: 100_000,
  maxQueuedOther: 1_000,
};

/** The slice of aedes' persistence whose outgoing queues are bounded here. */
interface OutgoingQueues {
  outgoingEnqueue(sub: { clientId: string }, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: unknown): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
}

export interface SessionGuard {
  /** Why this client may not connect now, or undefined to let it in. */
  admit(client: Client, connectedClients: number): string | undefined;
  /** Bound the outgoing queues of `persistence` (aedes' `broker.persistence`). */
  bound(persistence: OutgoingQueues): void;
  /** Messages dropped since the start for sessions whose queue was full, by client id. */
  dropped(): ReadonlyMap<string, number>;
}

/**
 * Admission and queue bounds. `isOwn(clientId)` says whether an id is one of the store's own
 * processes' (already bound to their accounts): those are never refused for room and get the
 * deeper queue; everyone else shares what is left.
 */
export function createSessionGuard(
  limits: BrokerLimits,
  isOwn: (clientId: string) => boolean,
  log: Logger,
): SessionGuard {
  const sessions = new Set<string>(); // persistent ids of clients that are not the store's own
  const queued = new Map<string, number>();
  const dropped = new Map<string, number>();
  const full = new Set<string>(); // sessions that lost a message since they last had room
  const capOf = (id: string) => (isOwn(id) ? limits.maxQueued : limits.maxQueuedOther);

  /** The subscribers that still have room; each full one's loss is counted and said once per episode. */
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
          'a persistent session is full; new messages for it are dropped until it takes some',
        );
      }
    }
    return kept;
  }

  return {
    admit(client, connectedClients) {
      if (isOwn(client.id)) return undefined;
      if (connectedClients >= limits.maxClients) {
        return `the broker already serves ${limits.maxClients} clients (MQTT_MAX_CLIENTS)`;
      }
      if (client.clean) {
        sessions.delete(client.id); // aedes drops that session now
        return undefined;
      }
      if (!sessions.has(client.id) && sessions.size >= limits.maxSessions) {
        return `the broker already keeps ${limits.maxSessions} persistent sessions (MQTT_MAX_SESSIONS); connect with a clean session`;
      }
      sessions.add(client.id);
      return undefined;
    },
    bound(persistence) {
      const enqueue = persistence.outgoingEnqueue.bind(persistence);
      const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
      const clear = persistence.outgoingClearMessageId.bind(persistence);
      persistence.outgoingEnqueue = async (sub, packet) => {
        if (withRoom([sub]).length === 1) await enqueue(sub, packet);
      };
      persistence.outgoingEnqueueCombi = async (subs, packet) => {
        const kept = withRoom(subs);
        if (kept.length > 0) await enqueueCombi(kept, packet);
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
    },
    dropped: () => dropped,
  };
}
