// The head office under Docker Compose (docker-compose.chain.yaml over the store's
// docker-compose.yaml): each NATS node's config, and the compose store's Mosquitto bridge to those
// nodes. Both are committed under chain/compose/ (pnpm chain:compose writes them) and a test fails
// when one falls behind what is generated here.
import { mosquittoBridge } from '@spectrum-grocers/broker';
import { DEFAULT_ROOT, type TopicRoot } from '@spectrum-grocers/contract';
import { natsConfig, natsNodeName, type NatsPorts } from './nats-node.js';

/** Each node's ports inside its container: NATS's usual ones, and MQTT's. */
export const COMPOSE_NATS_PORTS: NatsPorts = Object.freeze({ client: 4222, http: 8222, route: 6222, mqtt: 1883 });

/** The cluster's compose services, `nats-1` to `nats-3`: each node's server_name and host name. */
export const COMPOSE_NATS_NODES: readonly string[] = Object.freeze([0, 1, 2].map(natsNodeName));

/** Where a node keeps its JetStream store inside its container: its named volume. */
export const COMPOSE_NATS_STORE = '/data/jetstream';

/** Where the generated files live, from the repository's root. */
export const COMPOSE_DIR = 'chain/compose';
/** The directory mounted as the compose store's Mosquitto conf.d in place of broker/conf.d. */
export const COMPOSE_BRIDGE_DIR = `${COMPOSE_DIR}/bridge`;

/** A node's config: every listener on all of the container's interfaces, routes to every node by name. */
export function composeNatsConfig(name: string): string {
  const ports = COMPOSE_NATS_PORTS;
  return natsConfig({
    name,
    host: '0.0.0.0',
    ports,
    routes: COMPOSE_NATS_NODES.map((node) => `${node}:${ports.route}`),
    storeDir: COMPOSE_NATS_STORE,
  });
}

/** The head office's MQTT listeners, `host:port`, as the store's broker reaches them on the compose network. */
export function composeHqAddresses(): string[] {
  return COMPOSE_NATS_NODES.map((node) => `${node}:${COMPOSE_NATS_PORTS.mqtt}`);
}

/**
 * The compose store's bridge to every node. The store is docker-compose.yaml's (CHAIN and STORE
 * as there: the defaults); HQ's MQTT admits the store without an account on the compose network.
 */
export function composeStoreBridge(root: TopicRoot = DEFAULT_ROOT): string {
  const header = "# The compose store's bridge to the head office's NATS nodes (pnpm chain:compose).";
  return `${header}\n${mosquittoBridge({ root, addresses: composeHqAddresses() })}`;
}

/** Every generated file, by its path from the repository's root. */
export function composeFiles(): Record<string, string> {
  return {
    ...Object.fromEntries(COMPOSE_NATS_NODES.map((node) => [`${COMPOSE_DIR}/${node}.conf`, composeNatsConfig(node)])),
    [`${COMPOSE_BRIDGE_DIR}/bridge.conf`]: composeStoreBridge(),
  };
}
