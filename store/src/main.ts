import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ACCOUNTS,
  createLogger,
  envPositiveInt,
  loadConfig,
  passwordVariable,
  runMain,
  SERVICES,
  SESSION_FILE,
  untilSignal,
  type Account,
} from '@spectrum-grocers/shared';
import { createAuthorizer } from './auth.js';
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
  /** Run the control room (the operator's dashboard, http://localhost:8086) too. */
  CONTROL_ROOM: z.stringbool().default(true),
  /** Let clients without credentials watch (read-only) the embedded broker, e.g. mosquitto_sub. */
  MQTT_ANONYMOUS_READ: z.stringbool().default(true),
});

runMain('store', async (onStopping) => {
  const config = loadConfig('store', { options: StoreEnv, defaultHttpPort: 0 });
  const log = createLogger(config);
  // Each service gets an account of its own on the embedded broker: its password from the
  // environment (or .env, as `pnpm broker:credentials` writes it), else one made now.
  const credentials: Record<string, string> = Object.fromEntries(
    ACCOUNTS.map((a) => [a, process.env[passwordVariable(a)] || randomBytes(18).toString('base64url')]),
  );
  // The control room reads everything with the read-only observer account.
  const processes = [...config.options.SERVICES, ...(config.options.CONTROL_ROOM ? ['control-room'] : [])];
  const accountOf = (process: string) => (process === 'control-room' ? 'observer' : process);
  let broker: EmbeddedBroker | undefined;
  if (config.mqtt.explicit) log.info({ url: config.mqtt.url }, 'using the broker of MQTT_URL; starting none');
  else {
    broker = await startEmbeddedBroker({
      host: config.options.MQTT_BIND_HOST,
      port: config.mqtt.port,
      log,
      auth: createAuthorizer(config.topics, credentials, { anonymousRead: config.options.MQTT_ANONYMOUS_READ, log }),
      maxPacketBytes: config.options.MQTT_MAX_PACKET_BYTES,
    });
  }
  const url = broker?.url ?? config.mqtt.url;
  // Tools on this machine (pnpm grocer) find the broker and its accounts here while the store runs.
  const sessionFile = join(config.dataDir, SESSION_FILE);
  if (broker) writeSessionFile(sessionFile, url, credentials);
  const pretty = config.log.format === 'pretty';
  const supervisor = superviseServices({
    services: processes,
    env: (service) =>
      serviceEnv(
        service,
        process.env,
        { MQTT_URL: url, LOG_FORMAT: pretty ? 'pretty' : 'json' },
        broker ? { MQTT_USERNAME: accountOf(service), MQTT_PASSWORD: credentials[accountOf(service)]! } : {},
      ),
    log,
    color: pretty && process.env.NO_COLOR === undefined,
  });
  const { hostname, port } = new URL(url);
  // The port each one gets, as the supervisor resolves its environment.
  const page = (service: string, fallback: number) =>
    `http://localhost:${serviceEnv(service, process.env, {}).HTTP_PORT ?? fallback}/`;
  log.info(
    { url },
    `store running; watch it with: mosquitto_sub -h ${hostname} -p ${port || 1883} -v -t '${config.topics.chain}/#'`,
  );
  if (processes.includes('hello-helper')) log.info(`entrance display: ${page('hello-helper', 8083)}`);
  if (processes.includes('control-room')) log.info(`control room: ${page('control-room', 8086)}`);
  try {
    await untilSignal(log);
  } finally {
    onStopping();
    await supervisor.stop();
    await broker?.close();
    if (broker) rmSync(sessionFile, { force: true });
    log.info('store stopped');
  }
});

/** MQTT_URL and every account's password, in .env form, readable by this user only. */
function writeSessionFile(path: string, url: string, credentials: Record<string, string>): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const lines = [
    '# Written by `pnpm start` for tools on this machine; removed when the store stops.',
    `MQTT_URL=${url}`,
    ...ACCOUNTS.map((a: Account) => `${passwordVariable(a)}=${credentials[a]}`),
  ];
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
}
