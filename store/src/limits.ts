import type { Client } from 'aedes';

/**
 * What any one client can make the embedded broker hold. aedes keeps every persistent session,
 * its subscriptions and its queued messages in memory for as long as the process runs, with no
 * limit of its own; without these, a few hundred idle sessions and a day's traffic fill the machine.
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
  /** Topic filters one client may hold. */
  readonly maxSubscriptions: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  maxClients: 256,
  maxSessions: 16,
  maxQueued: 100_000,
  maxQueuedOther: 1_000,
  maxSubscriptions: 100,
};

/** No topic of ours comes near; a filter longer than this is refused. */
export const MAX_FILTER_LENGTH = 1024;

export interface Admission {
  /** Why this client, signed in as `account`, may not connect now; undefined to let it in. */
  admit(client: Client, account: string, connectedClients: number): string | undefined;
  /** Why this client may not add `filter` to its subscriptions; undefined to let it. */
  subscribe(client: Client, filter: string): string | undefined;
  /** The client dropped these filters. */
  unsubscribed(client: Client, filters: readonly string[]): void;
}

/**
 * Who gets in and how much each may hold. `isOwn(clientId)` says whether an id is one of the
 * store's own processes' (already bound to their accounts): those are never refused for room.
 * Every other persistent session belongs to the account that made it, as a service's id
 * belongs to the service: no one else can resume it or wipe it with a clean connect.
 */
export function createAdmission(limits: BrokerLimits, isOwn: (clientId: string) => boolean): Admission {
  const sessions = new Map<string, string>(); // persistent id (not the store's own) → its account
  const filters = new WeakMap<Client, Set<string>>();

  return {
    admit(client, account, connectedClients) {
      if (isOwn(client.id)) return undefined;
      const owner = sessions.get(client.id);
      if (owner !== undefined && owner !== account) return `the session ${client.id} belongs to another account`;
      if (connectedClients >= limits.maxClients) {
        return `the broker already serves ${limits.maxClients} clients (MQTT_MAX_CLIENTS)`;
      }
      if (client.clean) {
        sessions.delete(client.id); // aedes drops that session now
        return undefined;
      }
      if (owner === undefined && sessions.size >= limits.maxSessions) {
        return `the broker already keeps ${limits.maxSessions} persistent sessions (MQTT_MAX_SESSIONS); connect with a clean session`;
      }
      sessions.set(client.id, account);
      return undefined;
    },
    subscribe(client, filter) {
      if (filter.length > MAX_FILTER_LENGTH) return `a topic filter over ${MAX_FILTER_LENGTH} characters`;
      let held = filters.get(client);
      if (!held) filters.set(client, (held = new Set()));
      if (!held.has(filter) && held.size >= limits.maxSubscriptions) {
        return `more than ${limits.maxSubscriptions} topic filters for one client`;
      }
      held.add(filter);
      return undefined;
    },
    unsubscribed(client, gone) {
      const held = filters.get(client);
      for (const f of gone) held?.delete(f);
    },
  };
}
