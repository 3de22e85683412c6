import type { TopicRoot } from './topics.js';

/**
 * The services of the topic catalog, each its own process and broker account. The order is the
 * order of the broker's ACL and password files.
 */
export const SERVICES = [
  'gateway-guardian',
  'hello-helper',
  'gateexit-guardian',
  'inventory-intel',
  'fastlane-finale',
] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * The head office's services. They run at HQ, on the chain's broker and its PostgreSQL, never
 * in a store: a store's broker has no account for them, and what they send reaches a store
 * through its uplink.
 */
export const HQ_SERVICES = ['logistics', 'head-office'] as const;
export type HqServiceName = (typeof HQ_SERVICES)[number];

/** Whether a name from outside is one of the head office's services. */
export function isHqService(name: string | undefined): name is HqServiceName {
  return (HQ_SERVICES as readonly (string | undefined)[]).includes(name);
}

/**
 * The store segment of a topic that speaks to every store of the chain at once
 * (`{chain}/all-stores/price-change`); no store may take it as its name.
 */
export const ALL_STORES = 'all-stores';

/** The operator's dashboard: a process of the store that reads everything and publishes nothing. */
export const CONTROL_ROOM = 'control-room';
/** The read-everything account for people watching the store (`mosquitto_sub -u observer`). */
export const OBSERVER = 'observer';
/** Accounts that read the whole chain and publish nothing; the control room has its own, so no person watching can displace it. */
export const WATCHERS = [CONTROL_ROOM, OBSERVER] as const;
export type Watcher = (typeof WATCHERS)[number];

/**
 * The store's link to its head office where the store's broker cannot bridge (the embedded
 * aedes): it forwards what travels up and brings down what HQ sends. It runs only in a store
 * given an HQ (HQ_URL); under Mosquitto, Mosquitto's own bridge does its work.
 */
export const UPLINK = 'uplink';

/**
 * Every process of a store: the services, the control room, and the uplink of a store linked to
 * an HQ. What a store always runs is SERVICES and the control room; the uplink only with HQ_URL.
 */
export const PROCESSES = [...SERVICES, CONTROL_ROOM, UPLINK] as const;
export type ProcessName = (typeof PROCESSES)[number];

/** Whether a name from outside (the environment, a wire) is one of the store's services. */
export function isService(name: string | undefined): name is ServiceName {
  return (SERVICES as readonly (string | undefined)[]).includes(name);
}

/** Whether a name from outside is one of the store's processes. */
export function isProcess(name: string | undefined): name is ProcessName {
  return (PROCESSES as readonly (string | undefined)[]).includes(name);
}

/** Each process's HTTP port (`/healthz`, `/metrics`, its pages and routes) when HTTP_PORT is not set. */
export const HTTP_PORTS: Readonly<Record<ProcessName, number>> = {
  'gateway-guardian': 8081,
  'gateexit-guardian': 8082,
  'hello-helper': 8083,
  'inventory-intel': 8084,
  'fastlane-finale': 8085,
  'control-room': 8086,
  uplink: 8087,
};

/** The chain and store of the original suite, what CHAIN and STORE default to. */
export const DEFAULT_ROOT: TopicRoot = Object.freeze({ chain: 'spectrum-grocers', store: 'fresh-frontier' });

/** The MQTT client id a process of `store` connects with unless MQTT_CLIENT_ID says otherwise. */
export function defaultClientId(store: string, process: string): string {
  return `${store}-${process}`;
}

/**
 * A variable for one process (or account) only, as `pnpm start` and .env name them:
 * `serviceVariable('hello-helper', 'HTTP_PORT')` is HELLO_HELPER_HTTP_PORT.
 */
export function serviceVariable(service: string, variable: string): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_${variable}`;
}
