import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createLogger, envPositiveInt, loadConfig, runMain, SERVICES, untilSignal } from '@spectrum-grocers/shared';
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
  /** Let clients without credentials watch (read-only) the embedded broker, e.g. mosquitto_sub. */
  MQTT_ANONYMOUS_READ: z.stringbool().default(true),
});

runMain('store', async (onStopping) => {
  const config = loadConfig('store', { options: StoreEnv, defaultHttpPort: 0 });
  const log = createLogger(config);
  // Each service gets an account of its own on the embedded broker, with a password made now.
  const credentials = Object.fromEntries(
    config.options.SERVICES.map((s) => [s, randomBytes(18).toString('base64url')]),
  );
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
  const pretty = config.log.format === 'pretty';
  const supervisor = superviseServices({
    services: config.options.SERVICES,
    env: (service) =>
      serviceEnv(
        service,
        process.env,
        { MQTT_URL: url, LOG_FORMAT: pretty ? 'pretty' : 'json' },
        broker ? { MQTT_USERNAME: service, MQTT_PASSWORD: credentials[service]! } : {},
      ),
    log,
    color: pretty && process.env.NO_COLOR === undefined,
  });
  const { hostname, port } = new URL(url);
  log.info(
    { url },
    `store running; watch it with: mosquitto_sub -h ${hostname} -p ${port || 1883} -v -t '${config.topics.chain}/#'`,
  );
  try {
    await untilSignal(log);
  } finally {
    onStopping();
    await supervisor.stop();
    await broker?.close();
    log.info('store stopped');
  }
});
