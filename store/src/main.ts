import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  AppError,
  chainFilter,
  CONTROL_ROOM,
  PROCESSES,
  serviceVariable,
  SERVICES,
  UPLINK,
  type ProcessName,
} from '@spectrum-grocers/contract';
import {
  createLogger,
  envBrokerUrls,
  envPositiveInt,
  LAUNCHER_LOCK,
  loadConfig,
  lockDataDir,
  runMain,
  SESSION_FILE,
  untilSignal,
} from '@spectrum-grocers/runtime';
import { MQTT_DEFAULT_PORT, PORT_OFFSET_STEP, storeInstance } from '@spectrum-grocers/runtime/session';
import { ACCOUNTS, clientIdOwner, passwordVariable, type Account } from '@spectrum-grocers/broker';
import { createAuthorizer } from './auth.js';
import { DEFAULT_LIMITS } from './limits.js';
import { DEFAULT_MAX_PACKET_BYTES, startEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { portsInUse, takenPorts, type Listener } from './ports.js';
import { checkBuilt, serviceEnv, superviseServices, type Fatal } from './supervisor.js';

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
  /**
   * The head office's broker (its nodes comma-separated): set, the store runs its uplink too,
   * which forwards what goes up to HQ and brings down what HQ sends. Unset, the store runs alone.
   */
  HQ_URL: envBrokerUrls.optional(),
});

runMain('store', async (onStopping) => {
  const config = loadConfig('store', { options: StoreEnv });
  const log = createLogger(config);
  // The store beside this one, should this one's ports or DATA_DIR be another's.
  // (PORT_OFFSET moves the DATA_DIR too, unless DATA_DIR is set.)
  const next = config.portOffset + PORT_OFFSET_STEP;
  const ownDir = !process.env.DATA_DIR;
  const beside = `set PORT_OFFSET=${next} to run this store beside it (ports ${portRange(next, config.options.HQ_URL !== undefined)}${ownDir ? `, DATA_DIR ${storeInstance(next).dataDir}` : ''})`;
  // One launcher per DATA_DIR, refused before it starts a broker or a service; held till we exit.
  const lock = lockDataDir(
    config.dataDir,
    LAUNCHER_LOCK,
    'pnpm start',
    undefined,
    ownDir ? `stop that one, or ${beside}` : undefined,
  );
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
  // aedes cannot bridge: a process of our own links the store to HQ, only when there is one.
  if (config.options.HQ_URL) processes.push(UPLINK);
  checkBuilt(processes);
  // Every port this store listens on, each where its process will (its own settings win), checked
  // before anything starts: a taken one is one message, not a service failing over and over.
  const http = processes.map((service): Listener => {
    const own = loadConfig(service, { env: serviceEnv(service, process.env, {}), dotenv: false });
    return { name: service, host: own.http.host, port: own.http.port, variable: serviceVariable(service, 'HTTP_PORT') };
  });
  const mqtt: Listener[] = config.mqtt.explicit
    ? []
    : [{ name: 'the MQTT broker', host: config.options.MQTT_BIND_HOST, port: config.mqtt.port, variable: 'MQTT_PORT' }];
  const taken = await takenPorts([...mqtt, ...http]);
  if (taken.length > 0) throw portsInUse(taken, beside);
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
  // Tools on this machine (grocer) find the broker, its accounts and the processes here while the store runs.
  if (broker) writeSessionFile(sessionFile, url, credentials, http);
  const pretty = config.log.format === 'pretty';
  let onFatal: (fatal: Fatal) => void = () => undefined;
  const failed = new Promise<Fatal>((resolve) => (onFatal = resolve));
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
    onFatal: (fatal) => onFatal(fatal),
  });
  const { hostname, port } = new URL(url);
  const page = (service: ProcessName) => {
    const at = http.find((l) => l.name === service)?.port;
    return at ? `http://localhost:${at}/` : undefined;
  };
  log.info(
    { url },
    `store running; watch it with: mosquitto_sub -h ${hostname} -p ${port || MQTT_DEFAULT_PORT} -v -t '${chainFilter(config.topics)}'`,
  );
  if (page('hello-helper')) log.info(`entrance display: ${page('hello-helper')}`);
  if (page(CONTROL_ROOM)) log.info(`control room: ${page(CONTROL_ROOM)}`);
  if (page(UPLINK)) log.info(`the uplink links this store to its head office (HQ_URL): ${page(UPLINK)}healthz`);
  let fatal: Fatal | undefined;
  try {
    const stop = await Promise.race([untilSignal(log, { exitOnStdinClose: config.exitOnStdinClose }), failed]);
    if (typeof stop === 'object') fatal = stop;
  } finally {
    onStopping();
    await supervisor.stop();
    await broker?.close();
    rmSync(sessionFile, { force: true });
    lock.release();
    log.info('store stopped');
  }
  if (fatal) throw failure(fatal, http, beside);
});

/** Why the store stopped on its own: a service failed in a way no restart mends. */
function failure(fatal: Fatal, http: readonly Listener[], beside: string): AppError {
  const listener = http.find((l) => l.name === fatal.service);
  // Its own words say HTTP_PORT; here its port is moved by PORT_OFFSET or its own variable.
  if (fatal.code === 'PORT_IN_USE' && listener) return portsInUse([listener], beside);
  // A message that goes on over several lines (CONFIG_INVALID's) is in the service's log above.
  return new AppError(fatal.code, `${fatal.service} stopped: ${fatal.message.replace(/:$/, ' (above)')}`);
}

/** `1893 and 8091–8096`: the ports of the store at `offset` (8097 too, when it runs an uplink). */
function portRange(offset: number, uplink: boolean): string {
  const store = storeInstance(offset);
  const http = PROCESSES.filter((p) => uplink || p !== UPLINK).map((p) => store.httpPort(p));
  return `${store.mqttPort} and ${Math.min(...http)}–${Math.max(...http)}`;
}

/**
 * MQTT_URL, every account's password and each process's URL (`INVENTORY_INTEL_URL=…`), in .env
 * form, readable by this user only. Valid while the launcher's lock is held: tools ignore (and
 * remove) one whose launcher is gone.
 */
function writeSessionFile(
  path: string,
  url: string,
  credentials: Record<string, string>,
  http: readonly Listener[],
): void {
  const lines = [
    '# Written by `pnpm start` for tools on this machine; valid while it runs, removed when it stops.',
    `MQTT_URL=${url}`,
    ...ACCOUNTS.map((a: Account) => `${passwordVariable(a)}=${credentials[a]}`),
    // A port of 0 is known only to its process.
    ...http.filter((l) => l.port !== 0).map((l) => `${serviceVariable(l.name, 'URL')}=http://localhost:${l.port}`),
  ];
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}
