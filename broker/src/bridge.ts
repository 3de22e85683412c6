import { downlinkTopics, uplinkFilters, type TopicRoot } from '@spectrum-grocers/contract';

export interface BridgeOptions {
  readonly root: TopicRoot;
  /** The head office's MQTT listeners, `host:port` each: every node of its cluster. */
  readonly addresses: readonly string[];
  readonly username?: string;
  readonly password?: string;
}

/** One bridge per store, named after it: the client id of the store's session at HQ. */
export function bridgeName(root: TopicRoot): string {
  return `${root.chain}-${root.store}-uplink`;
}

/**
 * Mosquitto's `connection` bridge from a store to the head office, from the topic catalog: up
 * go the events the catalog sends up, every status and every dead letter; down come the ones it
 * sends down. No topic goes both ways, so nothing the bridge sends can come back to it (the
 * catalog's tests hold that): this is what keeps it loop-free, since `try_private false` leaves
 * the remote unable to tell a bridge from a client.
 */
export function mosquittoBridge({ root, addresses, username, password }: BridgeOptions): string {
  if (addresses.length === 0) throw new Error('a bridge needs at least one address of the head office');
  const name = bridgeName(root);
  const lines = [
    '# Generated from the topic catalog (pnpm broker:bridge); do not edit by hand.',
    `connection ${name}`,
    `address ${addresses.join(' ')}`,
    // The nodes of a cluster are equals: after a failover, stay on the node that answered.
    'round_robin true',
    // NATS speaks MQTT 3.1.1 and refuses Mosquitto's private bridge protocol (try_private).
    'bridge_protocol_version mqttv311',
    'try_private false',
    // A session at HQ that lives while the store is away: what HQ sends down meanwhile waits in it.
    'cleansession false',
    `remote_clientid ${name}`,
    `local_clientid ${root.store}-bridge`,
    ...(username ? [`remote_username ${username}`] : []),
    ...(password ? [`remote_password ${password}`] : []),
    'keepalive_interval 10',
    // Reconnect after 1 s, backing off to 15 s while HQ stays away.
    'restart_timeout 1 15',
    'start_type automatic',
    // The link's state (1 up, 0 down) on $SYS/broker/connection/<name>/state, in the store only.
    'notifications true',
    'notifications_local_only true',
    // Statuses are retained at HQ as in the store.
    'bridge_outgoing_retain true',
    // QoS 1 each way: Mosquitto's default per topic line is QoS 0.
    ...uplinkFilters(root).map((t) => `topic ${t} out 1`),
    ...downlinkTopics(root).map((t) => `topic ${t} in 1`),
    '',
  ];
  return lines.join('\n');
}
