import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitor, notReady, waitForMqtt, type Jsz } from './nats-health.js';
import {
  findNatsServer,
  natsNode,
  natsNodeName,
  nodeConfig,
  type NatsNode,
  type NatsPorts,
  type NodeEvents,
  type NodeProcess,
} from './nats-node.js';
import { freePorts, waitUntil } from './ports.js';

export interface NatsCluster {
  /** One per node, in node order. */
  readonly mqttUrls: readonly string[];
  readonly mqttUrl: string;
  readonly nodes: readonly NatsNode[];
  /**
   * Wait until every live node answers, one meta leader is elected, and every stream and consumer
   * has a live leader and current stream replicas: kill a node before that and a session stalls.
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  output(name: string): string;
  /** Kill every node (kill -9), and delete their stores unless they live in a directory the caller gave. */
  dispose(): Promise<void>;
}

export interface NatsClusterOptions extends NodeEvents {
  /** How many nodes (3). */
  nodes?: number;
  /** Where the nodes' configs and JetStream stores live, kept across runs; by default a fresh temp dir. */
  dir?: string;
  /** Each node's ports, in node order; by default free ones, picked again on a clash. */
  ports?: readonly NatsPorts[];
  /** How long the start may take in all (25 s); every process is stopped if it takes longer. */
  timeoutMs?: number;
}

function clusterOf(nodes: readonly NodeProcess[], remove: () => void): NatsCluster {
  async function waitHealthy(timeoutMs = 20_000): Promise<void> {
    let reason = '';
    const check = async () => {
      const reports = new Map<string, Jsz>();
      for (const node of nodes.filter((n) => n.alive)) {
        const report = await monitor<Jsz>(node.httpPort, '/jsz?streams=true&consumers=true');
        reason = report ? '' : `${node.name} does not answer /jsz`;
        if (!report) return false;
        reports.set(node.name, report);
      }
      reason = (nodes.length > 1 && notReady(reports)) || '';
      return !reason;
    };
    try {
      await waitUntil(check, 'a healthy NATS cluster', timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${reason}`);
    }
  }
  return {
    mqttUrls: nodes.map((n) => n.mqttUrl),
    mqttUrl: nodes[0]!.mqttUrl,
    nodes,
    waitHealthy,
    output(name) {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw new Error(`no NATS node named ${name}`);
      return node.output();
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      remove();
    },
  };
}

/** Each node's config written into `dir` (its store beside it), and its process, not started yet. */
function nodesIn(bin: string, dir: string, ports: readonly NatsPorts[], fresh: boolean, events: NodeEvents) {
  const clustered = ports.length > 1;
  return ports.map((p, i) => {
    const name = natsNodeName(i);
    const storeDir = join(dir, name);
    // A temp store made for other ports (an earlier attempt) knows peers that are not there.
    if (fresh) rmSync(storeDir, { recursive: true, force: true });
    const confFile = join(dir, `${name}.conf`);
    writeFileSync(confFile, nodeConfig(name, p, clustered ? ports.map((q) => q.route) : [], storeDir));
    return natsNode(bin, name, p, confFile, clustered, events);
  });
}

async function freeNodePorts(count: number): Promise<NatsPorts[]> {
  const free = await freePorts(4 * count);
  return Array.from({ length: count }, (_, i) => {
    const [client, http, route, mqtt] = free.slice(4 * i, 4 * i + 4) as [number, number, number, number];
    return { client, http, route, mqtt };
  });
}

/** Every node started: on the ports asked for, or on free ones, picked again should one be taken meanwhile. */
async function launchAll(
  bin: string,
  dir: string,
  opts: NatsClusterOptions,
  left: () => number,
): Promise<NodeProcess[]> {
  for (let attempt = 1; ; attempt++) {
    const ports = opts.ports ?? (await freeNodePorts(opts.nodes ?? 3));
    const nodes = nodesIn(bin, dir, ports, opts.dir === undefined, opts);
    try {
      await Promise.all(nodes.map((n) => n.launch(left())));
      return nodes;
    } catch (err) {
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      const retry = opts.ports === undefined && attempt < 5 && /address already in use/i.test(String(err));
      if (!retry) throw err;
    }
  }
}

/**
 * A cluster of nats-servers (3) on loopback with JetStream and MQTT, returned once an MQTT client
 * can hold a QoS 1 subscription on every node and the cluster is healthy. Gives up within
 * `timeoutMs` (25 s), every process stopped, so that a test hook (30 s by default) need not time
 * out first and leave the servers running.
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const bin = findNatsServer();
  if (!bin) throw new Error('nats-server is not installed (Debian: apt-get install nats-server)');
  const dir = opts.dir === undefined ? mkdtempSync(join(tmpdir(), 'ff-nats-')) : resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const remove = () =>
    opts.dir === undefined && rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  const deadline = Date.now() + (opts.timeoutMs ?? 25_000);
  const left = () => Math.max(0, deadline - Date.now());
  let nodes: NodeProcess[] = [];
  try {
    nodes = await launchAll(bin, dir, opts, left);
    const cluster = clusterOf(nodes, remove);
    // An MQTT client arriving before a meta leader is elected waits for JetStream past its timeout.
    await cluster.waitHealthy(left());
    // One node at a time: the first creates the cluster's MQTT streams, the others then find them.
    for (const node of nodes) await waitForMqtt(node.name, node.mqttUrl, left());
    await cluster.waitHealthy(left());
    return cluster;
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    remove();
    throw err;
  }
}
