import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { chainFilter, CONTROL_ROOM, HTTP_PORTS, SERVICES, type ProcessName } from '@spectrum-grocers/contract';
import {
  createLogger,
  envPositiveInt,
  LAUNCHER_LOCK,
  loadConfig,
  lockDataDir,
  runMain,
  SESSION_FILE,
  untilSignal,
} from '@spectrum-grocers/runtime';
import { ACCOUNTS, clientIdOwner, passwordVariable, type Account } from '@spectrum-grocers/broker';
import { createAuthorizer } from './auth.js';
import { DEFAULT_LIMITS } from './limits.js';
import { DEFAULT_MAX_PACKET_BYTES, startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { serviceEnv, superviseServices } from './supervisor.js';

const StoreEnv = z.object({
  /** Interface the embedded broker listens on; loopback unless you mean to share it. */
  MQTT_BIND_HOST: z.string().min(1).default('127.0.0.1'),
  /** Which services to run, comma-separated (default: all five). */
  SERVICES: z
    .string()
    .default(SERVICES.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(SERVICES)).min(1)),
  /** The embedded broker disconnects a client that publishes a bigger message (as Mosquitto's max_packet_size). */
  MQTT_MAX_PACKET_BYTES: envPositiveInt.default(DEFAULT_MAX_PACKET_BYTES),
  /** Clients the embedded broker serves besides the store's own processes. */
  MQTT_MAX_CLIENTS: envPositiveInt.default(DEFAULT_LIMITS.maxClients),
  /** Persistent sessions it keeps besides the store's own processes'. */
  MQTT_MAX_SESSIONS: envPositiveInt.default(DEFAULT_LIMITS.maxSessions),
  /** Messages it queues for one of the store's processes while that one is down. */
  MQTT_MAX_QUEUED_MESSAGES: envPositiveInt.default(DEFAULT_LIMITS.maxQueued),
  /** Run the control room (the operator's dashboard) too. */
  CONTROL_ROOM: z.stringbool().default(true),
  /** Let clients without credentials watch (read-only) the embedded broker, e.g. mosquitto_sub. */
  MQTT_ANONYMOUS_READ: z.stringbool().default(true),
});

runMain('store', async (onStopping) => {
  const config = loadConfig('store', { options: StoreEnv });
  const log = createLogger(config);
  // One launcher per DATA_DIR, refused before it starts a broker or a service; held till we exit.
  const lock = lockDataDir(config.dataDir, LAUNCHER_LOCK, 'pnpm start');
  // A session file here now is stale (its launcher was killed): we hold the lock it stood for.
  const sessionFile = join(config.dataDir, SESSION_FILE);
  rmSync(sessionFile, { force: true });
  // Each service gets an account of its own on the embedded broker: its password from the
  // environment (or .env, as `pnpm broker:credentials` writes it), else one made now.
  const credentials: Record<string, string> = Object.fromEntries(
    ACCOUNTS.map((a) => [a, process.env[passwordVariable(a)] || randomBytes(18).toString('base64url')]),
  );
  // The control room reads everything with a read-only account of its own.
  const processes: ProcessName[] = [...config.options.SERVICES];
  if (config.options.CONTROL_ROOM) processes.push(CONTROL_ROOM);
  let broker: EmbeddedBroker | undefined;
  if (config.mqtt.explicit) log.info({ url: config.mqtt.url }, 'using the broker of MQTT_URL; starting none');
  else {
    broker = await startEmbeddedBroker({
      host: config.options.MQTT_BIND_HOST,
      port: config.mqtt.port,
      log,
      auth: createAuthorizer(config.topics, credentials, { anonymousRead: config.options.MQTT_ANONYMOUS_READ, log }),
      maxPacketBytes: config.options.MQTT_MAX_PACKET_BYTES,
      limits: {
        ...DEFAULT_LIMITS,
        maxClients: config.options.MQTT_MAX_CLIENTS,
        maxSessions: config.options.MQTT_MAX_SESSIONS,
        maxQueued: config.options.MQTT_MAX_QUEUED_MESSAGES,
      },
      isOwn: (clientId) => clientIdOwner(config.topics, clientId) !== undefined,
    });
  }
  const url = broker?.url ?? config.mqtt.url;
  // Tools on this machine (pnpm grocer) find the broker and its accounts here while the store runs.
  if (broker) writeSessionFile(sessionFile, url, credentials);
  const pretty = config.log.format === 'pretty';
  const supervisor = superviseServices({
    services: processes,
    env: (service) =>
      serviceEnv(
        service,
        process.env,
        { MQTT_URL: url, LOG_FORMAT: pretty ? 'pretty' : 'json' },
        // Each process has the account of its own name (the control room's reads everything).
        broker ? { MQTT_USERNAME: service, MQTT_PASSWORD: credentials[service]! } : {},
      ),
    log,
    color: pretty && process.env.NO_COLOR === undefined,
  });
  const { hostname, port } = new URL(url);
  // The port each one gets, as the supervisor resolves its environment.
  const page = (service: ProcessName) =>
    `http://localhost:${serviceEnv(service, process.env, {}).HTTP_PORT ?? HTTP_PORTS[service]}/`;
  log.info(
    { url },
    `store running; watch it with: mosquitto_sub -h ${hostname} -p ${port || 1883} -v -t '${chainFilter(config.topics)}'`,
  );
  if (processes.includes('hello-helper')) log.info(`entrance display: ${page('hello-helper')}`);
  if (processes.includes(CONTROL_ROOM)) log.info(`control room: ${page(CONTROL_ROOM)}`);
  try {
    await untilSignal(log);
  } finally {
    onStopping();
    await supervisor.stop();
    await broker?.close();
    rmSync(sessionFile, { force: true });
    lock.release();
    log.info('store stopped');
  }
});

/**
 * MQTT_URL and every account's password, in .env form, readable by this user only. Valid while
 * the launcher's lock is held: tools ignore (and remove) one whose launcher is gone.
 */
function writeSessionFile(path: string, url: string, credentials: Record<string, string>): void {
  const lines = [
    '# Written by `pnpm start` for tools on this machine; valid while it runs, removed when it stops.',
    `MQTT_URL=${url}`,
    ...ACCOUNTS.map((a: Account) => `${passwordVariable(a)}=${credentials[a]}`),
  ];
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}
