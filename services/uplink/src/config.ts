import { z } from 'zod';
import { UPLINK, type TopicRoot } from '@spectrum-grocers/contract';
import { envBrokerUrls, envExistingFile, loadConfig, type BaseConfig, type Config } from '@spectrum-grocers/runtime';

/** The uplink's own variables, beside every process's (MQTT_URL is the store's broker). */
export const UplinkEnv = z.object({
  /** The head office's broker: one URL, or its nodes comma-separated (tried in turn on failover). */
  HQ_URL: envBrokerUrls,
  HQ_USERNAME: z.string().optional(),
  HQ_PASSWORD: z.string().optional(),
  /** The persistent session at HQ: `{chain}-{store}-uplink` unless set. One store, one id. */
  HQ_CLIENT_ID: z.string().min(1).max(128).optional(),
  /** CA certificate (PEM) to trust for an mqtts:// HQ. */
  HQ_CA_FILE: envExistingFile.optional(),
});

export type UplinkConfig = Config<typeof UplinkEnv>;

/** Parse the environment once; a bad variable (HQ_URL among them) stops the start, named. */
export function loadUplinkConfig(env?: Record<string, string | undefined>): UplinkConfig {
  return loadConfig(UPLINK, { options: UplinkEnv, ...(env && { env, dotenv: false }) });
}

/** The client id of a store's uplink at HQ, where every store of the chain connects. */
export function hqClientId(root: TopicRoot): string {
  return `${root.chain}-${root.store}-${UPLINK}`;
}

/**
 * The connection to HQ, as the bus takes it: the store's settings (topics, timeouts, window),
 * HQ's broker, account and session. Protocol 3.1.1 and QoS 1 are the bus's: NATS, a clustered
 * HQ broker, has neither QoS 2 nor MQTT 5.
 */
export function hqBusConfig(config: UplinkConfig): { config: BaseConfig; servers: readonly string[] } {
  const o = config.options;
  const servers = o.HQ_URL;
  return {
    servers,
    config: {
      ...config,
      mqtt: {
        ...config.mqtt,
        url: servers[0]!,
        explicit: true,
        username: o.HQ_USERNAME,
        password: o.HQ_PASSWORD,
        clientId: o.HQ_CLIENT_ID ?? hqClientId(config.topics),
        caFile: o.HQ_CA_FILE,
      },
    },
  };
}
