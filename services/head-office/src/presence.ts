import { z } from 'zod';
import { ALL_STORES, parseJson, parseTopic } from '@spectrum-grocers/contract';
import { storeOfTopic } from '@spectrum-grocers/hq';

/** What the page shows of a status, read leniently: an original service may add or omit fields. */
const StatusHead = z.object({
  status: z.enum(['online', 'offline']),
  timestamp: z.coerce.string().optional(),
});

export interface ServiceState {
  readonly service: string;
  readonly status: 'online' | 'offline';
  readonly timestamp: string | null;
}

export interface Presence {
  /**
   * Take one message of `{chain}/{store}/status/{service}`: the store it concerns, or undefined
   * when it says nothing readable. An empty payload clears a retained status: the service is
   * forgotten.
   */
  record(topic: string, payload: Buffer): string | undefined;
  /** Each service of `store` heard of, by name. */
  services(store: string): ServiceState[];
  /** Whether any service of `store` is online now. */
  online(store: string): boolean;
  stores(): string[];
}

/**
 * Which stores and services are online, from the retained statuses each replica reads for
 * itself: a replica that starts gets every retained one again, so nothing needs storing. The
 * last message wins, not the newest timestamp: a last will carries the time of its connection,
 * older than the `online` it replaces.
 */
export function createPresence(chain: string): Presence {
  const byStore = new Map<string, Map<string, ServiceState>>();
  return {
    record(topic, payload) {
      const store = storeOfTopic(topic);
      if (store === undefined || store === ALL_STORES) return undefined;
      const kind = parseTopic({ chain, store }, topic);
      if (kind.kind !== 'status') return undefined;
      const services = byStore.get(store) ?? new Map<string, ServiceState>();
      if (payload.length === 0) {
        services.delete(kind.service);
        return store;
      }
      const json = parseJson(payload);
      const head = json.ok ? StatusHead.safeParse(json.value) : undefined;
      if (!head?.success) return undefined;
      services.set(kind.service, {
        service: kind.service,
        status: head.data.status,
        timestamp: head.data.timestamp ?? null,
      });
      byStore.set(store, services);
      return store;
    },
    services: (store) => [...(byStore.get(store)?.values() ?? [])].sort((a, b) => a.service.localeCompare(b.service)),
    online: (store) => [...(byStore.get(store)?.values() ?? [])].some((s) => s.status === 'online'),
    stores: () => [...byStore.keys()],
  };
}
