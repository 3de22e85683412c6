import { HTTP_PORTS, type ProcessName } from '@spectrum-grocers/contract';

/** The embedded broker's port for the first store on a machine: MQTT's own. */
export const MQTT_DEFAULT_PORT = 1883;

/**
 * Ports one store takes on a machine: its broker's and one per process, each the same distance
 * from the first store's. Offsets are multiples of this, so two stores' ports never overlap.
 */
export const PORT_OFFSET_STEP = 10;

/** The largest offset that keeps every port of the store under 65536. */
export const MAX_PORT_OFFSET =
  Math.floor((65_535 - Math.max(MQTT_DEFAULT_PORT, ...Object.values(HTTP_PORTS))) / PORT_OFFSET_STEP) *
  PORT_OFFSET_STEP;

/**
 * One store on this machine, as PORT_OFFSET names it: where its broker and its processes listen
 * and where it keeps its data, when nothing more precise (MQTT_PORT, HTTP_PORT, DATA_DIR) is set.
 * The first store (offset 0) keeps `./data`; any other a directory of its own inside it, so two
 * stores never share a database, a lock or a session file.
 */
export interface StoreInstance {
  readonly portOffset: number;
  readonly mqttPort: number;
  readonly dataDir: string;
  httpPort(process: ProcessName): number;
}

export function storeInstance(portOffset: number): StoreInstance {
  return Object.freeze({
    portOffset,
    mqttPort: MQTT_DEFAULT_PORT + portOffset,
    dataDir: portOffset === 0 ? './data' : `./data/offset-${portOffset}`,
    httpPort: (process: ProcessName) => HTTP_PORTS[process] + portOffset,
  });
}

/** Where `pnpm start:chain` keeps its servers' and its stores' data unless CHAIN_DATA_DIR says otherwise. */
export const CHAIN_DATA_DIR = 'data/chain';

/** A store's DATA_DIR under `pnpm start:chain`: grocer finds a running store there by its name. */
export function chainStoreDataDir(store: string, chainDataDir = CHAIN_DATA_DIR): string {
  return `${chainDataDir}/${store}`;
}

/** Why `text` is no PORT_OFFSET, or undefined when it is one. */
export function portOffsetProblem(text: string): string | undefined {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n % PORT_OFFSET_STEP !== 0 || n > MAX_PORT_OFFSET) {
    return `must be a multiple of ${PORT_OFFSET_STEP} from 0 to ${MAX_PORT_OFFSET} (10: the second store on this machine, 20: the third)`;
  }
  return undefined;
}
