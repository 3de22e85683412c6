import mqtt, { type MqttClient } from 'mqtt';
import { waitUntil } from './ports.js';

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
  json<T = Record<string, unknown>>(): T;
}

export interface Collector {
  readonly client: MqttClient;
  readonly messages: Received[];
  on(topic: string): Received[];
  /** Wait until `count` messages arrived on `topic` (exact topic), return them. */
  waitFor(topic: string, count?: number, timeoutMs?: number): Promise<Received[]>;
  /** Publish at QoS 1 and wait for the PUBACK. */
  publish(topic: string, payload: string | Buffer | object, opts?: { retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** An MQTT client that records everything on `filters` (QoS 1, clean session). */
export async function collect(
  url: string,
  filters: string | string[],
  opts: mqtt.IClientOptions = {},
): Promise<Collector> {
  const client = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 200, ...opts });
  // As the services do: no Nagle delay on this client's QoS 1 traffic (timings would carry it).
  const noDelay = () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  noDelay();
  client.on('connect', noDelay);
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain, json: <T>() => JSON.parse(payload.toString()) as T });
  });
  // No filters: a publisher that reads nothing.
  if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
  const on = (topic: string): Received[] => messages.filter((m) => m.topic === topic);
  return {
    client,
    messages,
    on,
    waitFor: (topic, count = 1, timeoutMs = 10_000) =>
      waitUntil(
        () => (on(topic).length >= count ? on(topic) : undefined),
        `${count} message(s) on ${topic}`,
        timeoutMs,
      ),
    async publish(topic, payload, o = {}) {
      const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
      await client.publishAsync(topic, body, { qos: 1, retain: o.retain ?? false });
    },
    close: () => client.endAsync(true),
  };
}
