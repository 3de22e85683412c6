import mqtt, { type MqttClient } from 'mqtt';
import { waitUntil } from './ports.js';

/** A JSON answer from a node's monitoring port, or undefined while it does not answer. */
export async function monitor<T>(httpPort: number, path: string): Promise<T | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * A persistent session and a QoS 1 subscription on one node, then the session removed. A node's
 * first MQTT connection creates its `$MQTT_*` streams and consumers (0.5–2 s), and right after
 * an election a subscribe can be refused with 0x80; whoever comes next should meet neither.
 */
async function mqttWorks(name: string, url: string): Promise<boolean> {
  const clientId = `ff-ready-${name}`;
  const opts = { protocolVersion: 4, clientId, reconnectPeriod: 0, connectTimeout: 5_000 } as const;
  let client: MqttClient | undefined;
  try {
    // No retries: a connection that times out rejects instead of waiting for a reconnect.
    client = await mqtt.connectAsync(url, { ...opts, clean: false }, false);
    const granted = await within(client.subscribeAsync(`ff-ready/${name}`, { qos: 1 }), 5_000, 'SUBACK');
    if (granted.some((g) => g.qos === 128)) return false;
    await client.endAsync();
    client = await mqtt.connectAsync(url, { ...opts, clean: true }, false);
    return true;
  } catch {
    return false;
  } finally {
    await client?.endAsync(true).catch(() => undefined);
  }
}

export async function waitForMqtt(name: string, url: string, timeoutMs = 20_000): Promise<void> {
  await waitUntil(() => mqttWorks(name, url), `MQTT on nats-server ${name}`, timeoutMs);
}

type ClusterInfo = { leader?: string; replicas?: { name: string; current?: boolean }[] } | undefined;
export interface Jsz {
  meta_cluster?: { leader?: string };
  account_details?: {
    stream_detail?: {
      name: string;
      cluster?: ClusterInfo;
      consumer_detail?: { name: string; cluster?: ClusterInfo }[];
    }[];
  }[];
}

/** Each stream and consumer a node hosts, with what that node knows of its raft group. */
function groups(report: Jsz): { group: string; cluster: ClusterInfo; stream: boolean }[] {
  return (report.account_details ?? []).flatMap((a) =>
    (a.stream_detail ?? []).flatMap((s) => [
      { group: `stream ${s.name}`, cluster: s.cluster, stream: true },
      ...(s.consumer_detail ?? []).map((c) => ({
        group: `consumer ${s.name} > ${c.name}`,
        cluster: c.cluster,
        stream: false,
      })),
    ]),
  );
}

/**
 * Why the cluster is not ready to lose a node, or undefined when it is. Only a group's leader
 * knows who leads it and whether its followers are current (a restarted follower reports no
 * leader for seconds, and a follower reports its peers as stale), so each group needs a node that
 * claims to lead it, and a stream's leader must see its live followers current. Consumer
 * followers are not waited for: in 2.9 an idle consumer's follower on a restarted node stays
 * behind until the consumer next writes, and a behind follower cannot win an election against a
 * current one.
 */
export function notReady(reports: ReadonlyMap<string, Jsz>): string | undefined {
  const live = new Set(reports.keys());
  const metas = new Set([...reports.values()].map((r) => r.meta_cluster?.leader));
  const [meta] = metas;
  if (metas.size !== 1 || !meta || !live.has(meta)) return `no agreed meta leader among ${[...live].join(', ')}`;
  const hosted = new Set<string>();
  const led = new Set<string>();
  for (const [node, report] of reports) {
    for (const { group, cluster, stream } of groups(report)) {
      hosted.add(group);
      if (cluster?.leader !== node) continue;
      led.add(group);
      const behind = stream && cluster.replicas?.find((r) => live.has(r.name) && !r.current);
      if (behind) return `${behind.name}'s replica of ${group} is not current`;
    }
  }
  const leaderless = [...hosted].find((group) => !led.has(group));
  return leaderless && `${leaderless} has no leader`;
}
