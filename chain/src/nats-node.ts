import { findServerBinary } from './executables.js';
import { monitor, waitForMqtt } from './nats-health.js';
import { processOutput } from './output.js';
import { startServer, type Server } from './server.js';

/** Debian's nats-server, in /usr/sbin. */
export const findNatsServer = (): string | undefined => findServerBinary('nats-server');

/** The `i`th node's name (from 0): its server_name and its lines' prefix. */
export const natsNodeName = (i: number): string => `nats-${i + 1}`;

/** A node's listeners, all on loopback. */
export interface NatsPorts {
  readonly client: number;
  /** Monitoring: /healthz, /jsz. */
  readonly http: number;
  /** Cluster routes. */
  readonly route: number;
  readonly mqtt: number;
}

export interface NatsNode {
  /** `nats-1`, `nats-2`, …: its server_name. */
  readonly name: string;
  readonly mqttPort: number;
  readonly httpPort: number;
  /** Whether its process is running. */
  readonly alive: boolean;
  /** Send `signal` (SIGKILL by default; SIGINT stops it cleanly) and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same ports with the same store; resolves once it serves MQTT. */
  restart(): Promise<void>;
}

export interface NodeProcess extends NatsNode {
  readonly mqttUrl: string;
  launch(timeoutMs?: number): Promise<void>;
  output(): string;
}

/** A node's configuration, wherever it runs: on loopback here, or in a container of its own (compose.ts). */
export interface NatsConfig {
  /** Its server_name. */
  readonly name: string;
  /** The address every listener binds. */
  readonly host: string;
  readonly ports: NatsPorts;
  /** Every node's route address (`host:port`), its own included; none or one for a node alone. */
  readonly routes: readonly string[];
  /** Its JetStream store. */
  readonly storeDir: string;
}

/** A node's config file: JetStream and MQTT, clustered with `routes` when there are several. */
export function natsConfig({ name, host, ports, routes, storeDir }: NatsConfig): string {
  // R3 where there are three nodes: MQTT sessions and retained messages then survive losing one.
  const replicas = Math.min(3, Math.max(1, routes.length));
  const cluster = [
    'cluster {',
    '  name: ff-hq',
    `  listen: ${host}:${ports.route}`,
    `  routes: [${routes.map((route) => `nats-route://${route}`).join(', ')}]`,
    '}',
  ];
  return [
    `server_name: ${name}`,
    `listen: ${host}:${ports.client}`,
    `http: ${host}:${ports.http}`,
    `jetstream { store_dir: "${storeDir}" }`,
    ...(routes.length > 1 ? cluster : []),
    // ack_wait: a message a client received and never acknowledged (it died) goes to the session's
    // next holder after this long; NATS's default of 30 s would hold a failover up that long.
    `mqtt { listen: ${host}:${ports.mqtt}, stream_replicas: ${replicas}, consumer_replicas: ${replicas}, ack_wait: "5s" }`,
    '',
  ].join('\n');
}

/** One node's configuration: every listener on loopback, clustered with `routes` when there are several. */
export function nodeConfig(name: string, ports: NatsPorts, routes: readonly number[], storeDir: string): string {
  const loopback = '127.0.0.1';
  return natsConfig({ name, host: loopback, ports, routes: routes.map((port) => `${loopback}:${port}`), storeDir });
}

/** What a node tells whoever runs it. */
export interface NodeEvents {
  /** Each line it writes, as it comes. */
  onLine?: (node: string, line: string) => void;
  /** Its process ended after it had started, and nobody stopped it. */
  onExit?: (node: string, how: string) => void;
}

/** One nats-server over its config file: started, killed and started again. */
export function natsNode(
  bin: string,
  name: string,
  ports: NatsPorts,
  confFile: string,
  clustered: boolean,
  events: NodeEvents,
): NodeProcess {
  let server: Server | undefined;
  const out = processOutput(events.onLine && ((line) => events.onLine!(name, line)));
  const mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;

  /** Start and wait for every listener (routes are bound after "Server is ready") and /healthz. */
  async function launch(timeoutMs = 15_000): Promise<void> {
    server = startServer({
      what: `nats-server ${name}`,
      command: bin,
      args: ['-c', confFile],
      out,
      timeoutMs,
      onExit: (how) => events.onExit?.(name, how),
      ready: async (log) =>
        log.includes('Server is ready') &&
        (!clustered || log.includes('Listening for route connections')) &&
        (await monitor<{ status?: string }>(ports.http, '/healthz?js-enabled-only=true'))?.status === 'ok',
    });
    await server.started;
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => server?.stop(signal, 5000);

  return {
    name,
    mqttPort: ports.mqtt,
    httpPort: ports.http,
    mqttUrl,
    get alive() {
      return server?.alive ?? false;
    },
    launch,
    kill,
    async restart() {
      await launch();
      await waitForMqtt(name, mqttUrl);
    },
    output: out.text,
  };
}
