import type { NatsCluster } from '@spectrum-grocers/chain';
import { TEST_SERVICE_ENV } from './services.js';

/**
 * The environment of a head-office replica, as the tests run one: on every node of `hq` (the
 * first tried first), its state in the database at `databaseUrl`, looking at its stores every
 * `storeCheckMs`. A replica's own REPLICA_ID and service knobs go beside it.
 */
export function hqReplicaEnv(
  hq: NatsCluster,
  databaseUrl: string,
  chain: string,
  storeCheckMs = 200,
): Record<string, string> {
  return {
    ...TEST_SERVICE_ENV,
    CHAIN: chain,
    MQTT_URL: hq.mqttUrls[0]!,
    MQTT_SERVERS: hq.mqttUrls.join(','),
    DATABASE_URL: databaseUrl,
    STORE_CHECK_MS: String(storeCheckMs),
  };
}

/**
 * Whether the replica serving HTTP on `port` holds its service's intake with a session subscribed:
 * what stores send from then on waits at HQ (MQTT drops what nobody is subscribed to).
 */
export async function holdsIntake(port: number): Promise<boolean> {
  const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
    intake: false | { subscribed: boolean };
  };
  return health.intake !== false && health.intake.subscribed;
}
