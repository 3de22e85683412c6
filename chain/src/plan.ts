import { join } from 'node:path';
import { CONTROL_ROOM, PROCESSES, type ProcessName } from '@spectrum-grocers/contract';
import { SERVICE_NODE_FLAGS } from '@spectrum-grocers/runtime';
import { chainStoreDataDir, PORT_OFFSET_STEP, storeInstance } from '@spectrum-grocers/runtime/session';
import type { Listener } from '@spectrum-grocers/store';
import { natsNodeName, type NatsPorts } from './nats-node.js';

/** The chain's stores, each a `pnpm start` of its own, `PORT_OFFSET_STEP` apart. */
export const STORES = ['fresh-frontier', 'harbor-view', 'maple-grove'] as const;

/** Where each part listens when CHAIN_PORT_OFFSET is 0; stores at PORT_OFFSET 0, 10, 20. */
export const BASE_PORTS = {
  /** nats-1's, nats-2's and nats-3's are one apart from here. */
  nats: { mqtt: 2883, client: 4222, route: 6222, http: 8222 },
  postgres: 5433,
  headOffice: 8200,
  /** logistics-1's; logistics-2's is the next. */
  logistics: 8201,
} as const;

const NATS_NODES = 3;
const LOGISTICS_REPLICAS = 2;
/** The head office's database in its PostgreSQL. */
export const DATABASE = 'hq';
/** Seconds from an order to its delivery: short, so a newcomer sees deliveries arrive. */
export const DELIVERY_LEAD_S = '20';

/** A node process of the chain, run and restarted by a supervisor. */
export interface Part {
  /** Its label: `logistics-1`, `head-office`, `fresh-frontier`. */
  readonly name: string;
  /** Its built entry point, from the repository's root. */
  readonly main: string;
  /** Node's flags before it: the services' own (SERVICE_NODE_FLAGS); none for a store's launcher, as `pnpm start`. */
  readonly flags: readonly string[];
  /** The name its failure line starts with (runMain's `store: [PORT_IN_USE] …`). */
  readonly reports: string;
  /** Whose `<NAME>_<VARIABLE>` settings it takes: `LOGISTICS_DELIVERY_LEAD_S`, `HARBOR_VIEW_SIMULATE`. */
  readonly settings: string;
  /** The port whose /healthz says it is up. */
  readonly healthPort: number;
  /** Its environment's defaults, which its own settings override. */
  readonly defaults: Readonly<Record<string, string>>;
  /** What the chain sets and nothing overrides. */
  readonly env: Readonly<Record<string, string>>;
}

export interface Page {
  readonly what: string;
  readonly url: string;
}

export interface ChainPlan {
  readonly offset: number;
  readonly nats: { readonly dir: string; readonly ports: readonly NatsPorts[]; readonly urls: readonly string[] };
  readonly postgres: { readonly dir: string; readonly port: number; readonly url: string };
  readonly hq: readonly Part[];
  readonly stores: readonly Part[];
  /** Every port the chain listens on, checked before anything starts. */
  readonly listeners: readonly Listener[];
  readonly pages: readonly Page[];
}

/** Each step starts once the one before is up: HQ's intake must exist before a store sends (MQTT drops what nobody is subscribed to). */
export const START_ORDER = ['nats', 'postgres', 'hq', 'stores'] as const;
export type Step = (typeof START_ORDER)[number];
/**
 * The stores first, so that their uplinks hand their last events to HQ; then HQ's services,
 * which need NATS and PostgreSQL to finish theirs; then those two together.
 */
export const STOP_ORDER: readonly (readonly Step[])[] = [['stores'], ['hq'], ['nats', 'postgres']];

/** `list` from its `i`th element on, then the rest: each part first tries a different node. */
const rotate = <T>(list: readonly T[], i: number): T[] => [
  ...list.slice(i % list.length),
  ...list.slice(0, i % list.length),
];

function natsPorts(offset: number): NatsPorts[] {
  const { mqtt, client, route, http } = BASE_PORTS.nats;
  return Array.from({ length: NATS_NODES }, (_, i) => ({
    mqtt: mqtt + offset + i,
    client: client + offset + i,
    route: route + offset + i,
    http: http + offset + i,
  }));
}

function hqParts(offset: number, urls: readonly string[], database: string): Part[] {
  const replica = (name: string, service: string, port: number, i: number, defaults = {}): Part => {
    const servers = rotate(urls, i);
    return {
      name,
      main: `services/${service}/dist/main.js`,
      flags: SERVICE_NODE_FLAGS,
      reports: service,
      settings: service,
      healthPort: port,
      defaults,
      env: {
        DATABASE_URL: database,
        MQTT_URL: servers[0]!,
        MQTT_SERVERS: servers.join(','),
        REPLICA_ID: name,
        HTTP_PORT: String(port),
      },
    };
  };
  const logistics = Array.from({ length: LOGISTICS_REPLICAS }, (_, i) =>
    replica(`logistics-${i + 1}`, 'logistics', BASE_PORTS.logistics + offset + i, i, { DELIVERY_LEAD_S }),
  );
  return [replica('head-office', 'head-office', BASE_PORTS.headOffice + offset, LOGISTICS_REPLICAS), ...logistics];
}

function storePart(store: string, portOffset: number, dataDir: string, urls: string[]): Part {
  return {
    name: store,
    main: 'store/dist/main.js',
    flags: [],
    reports: 'store',
    settings: store,
    healthPort: storeInstance(portOffset).httpPort('fastlane-finale'),
    defaults: {},
    env: {
      STORE: store,
      PORT_OFFSET: String(portOffset),
      DATA_DIR: chainStoreDataDir(store, dataDir),
      HQ_URL: urls.join(','),
      // HQ's logistics is the stores' supplier now, not each store's simulated one.
      RESTOCK_DELAY_S: 'off',
    },
  };
}

/** Every port of the plan, each named by its part. */
function listenersOf(plan: Omit<ChainPlan, 'listeners' | 'pages'>, httpHost: string): Listener[] {
  const at = (name: string, host: string, port: number): Listener => ({
    name,
    host,
    port,
    variable: 'CHAIN_PORT_OFFSET',
  });
  const loopback = '127.0.0.1';
  return [
    ...plan.nats.ports.flatMap((p, i) =>
      (['mqtt', 'client', 'route', 'http'] as const).map((kind) => at(`${natsNodeName(i)} ${kind}`, loopback, p[kind])),
    ),
    at('postgres', loopback, plan.postgres.port),
    ...plan.hq.map((p) => at(p.name, httpHost, Number(p.env.HTTP_PORT))),
    ...plan.stores.flatMap((s) => {
      const store = storeInstance(Number(s.env.PORT_OFFSET));
      const http = PROCESSES.map((p: ProcessName) => at(`${s.name} ${p}`, httpHost, store.httpPort(p)));
      return [at(`${s.name} MQTT`, loopback, store.mqttPort), ...http];
    }),
  ];
}

function pagesOf(plan: Omit<ChainPlan, 'listeners' | 'pages'>): Page[] {
  const local = (port: number, path = '/') => `http://localhost:${port}${path}`;
  const [office, logistics] = [
    plan.hq.find((p) => p.reports === 'head-office')!,
    plan.hq.find((p) => p.reports === 'logistics')!,
  ];
  return [
    { what: 'head office', url: local(office.healthPort) },
    { what: 'orders', url: local(logistics.healthPort, '/orders') },
    ...plan.stores.flatMap((s) => {
      const store = storeInstance(Number(s.env.PORT_OFFSET));
      return [
        { what: `${s.name} control room`, url: local(store.httpPort(CONTROL_ROOM)) },
        { what: `${s.name} exit gate`, url: `POST ${local(store.httpPort('gateexit-guardian'), '/scans')}` },
      ];
    }),
  ];
}

/**
 * The whole chain, every port moved by `offset` (a multiple of PORT_OFFSET_STEP: the stores'
 * PORT_OFFSET are offset, offset + 10, offset + 20), its data under `dataDir`.
 */
export function planChain(offset: number, dataDir: string, httpHost = '0.0.0.0'): ChainPlan {
  const ports = natsPorts(offset);
  const urls = ports.map((p) => `mqtt://127.0.0.1:${p.mqtt}`);
  const pgPort = BASE_PORTS.postgres + offset;
  const database = `postgres://postgres@127.0.0.1:${pgPort}/${DATABASE}`;
  const core = {
    offset,
    nats: { dir: join(dataDir, 'nats'), ports, urls },
    postgres: { dir: join(dataDir, 'postgres'), port: pgPort, url: database },
    hq: hqParts(offset, urls, database),
    stores: STORES.map((s, i) => storePart(s, offset + i * PORT_OFFSET_STEP, dataDir, rotate(urls, i))),
  };
  return { ...core, listeners: listenersOf(core, httpHost), pages: pagesOf(core) };
}

/** The largest CHAIN_PORT_OFFSET that keeps every port of the chain under 65536. */
export const MAX_CHAIN_OFFSET =
  Math.floor((65_535 - Math.max(...planChain(0, '.').listeners.map((l) => l.port))) / PORT_OFFSET_STEP) *
  PORT_OFFSET_STEP;
