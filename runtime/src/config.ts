import { existsSync } from 'node:fs';
import { config as loadDotenv } from 'dotenv';
import { z } from 'zod';
import {
  ALL_STORES,
  AppError,
  DEFAULT_ROOT,
  defaultClientId,
  isProcess,
  type TopicRoot,
} from '@spectrum-grocers/contract';
import { portOffsetProblem, storeInstance } from './instance.js';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const topicLevel = z
  .string()
  .min(1)
  .regex(/^[^/#+]+$/, 'must be one topic level: no "/", "#", "+"')
  .refine((s) => !s.includes('\0'), 'must not contain NUL');

/** A path to a file that is there (a certificate): a wrong one is said at start, not at the first TLS handshake. */
const existingFile = z
  .string()
  .min(1)
  .refine((p) => existsSync(p), 'no such file');

/** The variables every service reads. Names are the environment's; defaults suit a laptop. */
export const BaseEnv = z.object({
  MQTT_URL: z
    .url({ protocol: /^(mqtts?|wss?)$/, error: 'must be a URL like mqtt://host:1883 (mqtt, mqtts, ws, wss)' })
    .optional(),
  /** The original suite's variable: a broker host name, used when MQTT_URL is not set. */
  BROKER_ADDRESS: z.string().min(1).optional(),
  /** The port of BROKER_ADDRESS, or of the embedded broker: 1883 + PORT_OFFSET unless set. */
  MQTT_PORT: port.optional(),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_CLIENT_ID: z.string().min(1).max(128).optional(),
  /** CA certificate (PEM) to trust for mqtts:// and wss://, e.g. broker/certs/ca.crt. */
  MQTT_CA_FILE: existingFile.optional(),
  MQTT_KEEPALIVE_S: positiveInt.max(65535).default(30),
  MQTT_RECONNECT_MIN_MS: positiveInt.default(500),
  MQTT_RECONNECT_MAX_MS: positiveInt.default(30_000),
  CHAIN: topicLevel.default(DEFAULT_ROOT.chain),
  // `all-stores` is where the head office speaks to every store at once.
  STORE: topicLevel
    .refine((s) => s !== ALL_STORES, `"${ALL_STORES}" is the whole chain, not a store`)
    .default(DEFAULT_ROOT.store),
  /** `./data` for the first store on a machine, `./data/offset-<PORT_OFFSET>` for any other. */
  DATA_DIR: z.string().min(1).optional(),
  /**
   * Which store of this machine this is: shifts the broker's port and every process's HTTP
   * port by this much, and gives the store a DATA_DIR of its own (see instance.ts).
   */
  PORT_OFFSET: z
    .string()
    .default('0')
    .superRefine((text, ctx) => {
      const problem = portOffsetProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform(Number),
  DB_SYNCHRONOUS: z.enum(['full', 'normal']).default('full'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: port.optional(),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(5000),
  /**
   * After a lost connection, publish again what the broker acknowledged this long before it
   * dropped: a broker that crashes loses what it had not yet saved (Mosquitto saves every
   * second, broker/mosquitto.conf). Consumers drop the copies by event_id. 0: never.
   */
  OUTBOX_RESEND_WINDOW_MS: z.coerce.number().int().min(0).default(5000),
  /** Larger event payloads are refused (dead-lettered); the broker's own cap is higher. */
  MAX_PAYLOAD_BYTES: positiveInt.default(256 * 1024),
  /**
   * Messages a consuming service holds unacknowledged at once; they are committed together
   * (one fsync) and acknowledged after that commit, in the order they came. 1: one at a time.
   */
  MAX_IN_FLIGHT: positiveInt.max(65535).default(256),
  /** The store's product catalog (JSON, as contract/data/products.json); by default that file. */
  CATALOG_FILE: existingFile.optional(),
  /** Set by `pnpm start`: stdin closing (the launcher gone) stops the service. */
  EXIT_ON_STDIN_CLOSE: z.stringbool().default(false),
});

export interface BaseConfig {
  readonly service: string;
  readonly mqtt: {
    readonly url: string;
    /** True when MQTT_URL or BROKER_ADDRESS named a broker (else: localhost:MQTT_PORT). */
    readonly explicit: boolean;
    /** MQTT_PORT: the port of BROKER_ADDRESS, or of the embedded broker. */
    readonly port: number;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly clientId: string;
    readonly caFile: string | undefined;
    readonly keepaliveS: number;
    readonly reconnectMinMs: number;
    readonly reconnectMaxMs: number;
  };
  readonly topics: TopicRoot;
  /** PORT_OFFSET: which store of this machine this is (0: the first). */
  readonly portOffset: number;
  readonly dataDir: string;
  readonly dbSynchronous: 'full' | 'normal';
  readonly log: { readonly level: string; readonly format: 'json' | 'pretty' };
  readonly http: { readonly host: string; readonly port: number };
  readonly shutdownTimeoutMs: number;
  readonly maxPayloadBytes: number;
  /** MAX_IN_FLIGHT: unacknowledged messages a consumer holds (and commits) at once. */
  readonly maxInFlight: number;
  /** CATALOG_FILE, or undefined for the contract's catalog. */
  readonly catalogFile: string | undefined;
  readonly outboxResendWindowMs: number;
  readonly exitOnStdinClose: boolean;
}

export type Config<O extends z.ZodObject = z.ZodObject<Record<string, never>>> = BaseConfig & {
  /** The service's own knobs, validated by the schema it passed to `loadConfig`. */
  readonly options: Readonly<z.output<O>>;
};

type Env = Record<string, string | undefined>;

export interface LoadConfigOptions<O extends z.ZodObject> {
  /** The service's own variables. */
  options?: O;
  env?: Env;
  /** Read `.env` from the working directory (never overrides the real environment). */
  dotenv?: boolean;
}

function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
}

/**
 * Parse the environment once at start. Every bad variable is named in one AppError
 * (code CONFIG_INVALID), so one failed start shows all there is to fix.
 */
export function loadConfig<O extends z.ZodObject = z.ZodObject<Record<string, never>>>(
  service: string,
  opts: LoadConfigOptions<O>,
): Config<O> {
  if (opts.dotenv ?? opts.env === undefined) loadDotenv({ quiet: true });
  // An empty variable means "not set", as in a compose file's `FOO=`.
  const env = Object.fromEntries(
    Object.entries(opts.env ?? process.env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const base = BaseEnv.safeParse(env);
  const own = (opts.options ?? z.object({})).safeParse(env);
  const problems = [...(base.success ? [] : issueLines(base.error)), ...(own.success ? [] : issueLines(own.error))];
  if (base.success && base.data.MQTT_RECONNECT_MIN_MS > base.data.MQTT_RECONNECT_MAX_MS) {
    problems.push('  MQTT_RECONNECT_MIN_MS: must not exceed MQTT_RECONNECT_MAX_MS');
  }
  if (!base.success || !own.success || problems.length > 0) {
    throw new AppError('CONFIG_INVALID', `invalid configuration for ${service}:\n${problems.join('\n')}`);
  }
  const e = base.data;
  const instance = storeInstance(e.PORT_OFFSET);
  const mqttPort = e.MQTT_PORT ?? instance.mqttPort;
  const url = e.MQTT_URL ?? `mqtt://${e.BROKER_ADDRESS ?? 'localhost'}:${mqttPort}`;
  return deepFreeze({
    service,
    mqtt: {
      url,
      explicit: e.MQTT_URL !== undefined || e.BROKER_ADDRESS !== undefined,
      port: mqttPort,
      username: e.MQTT_USERNAME,
      password: e.MQTT_PASSWORD,
      clientId: e.MQTT_CLIENT_ID ?? defaultClientId(e.STORE, service),
      caFile: e.MQTT_CA_FILE,
      keepaliveS: e.MQTT_KEEPALIVE_S,
      reconnectMinMs: e.MQTT_RECONNECT_MIN_MS,
      reconnectMaxMs: e.MQTT_RECONNECT_MAX_MS,
    },
    topics: { chain: e.CHAIN, store: e.STORE },
    portOffset: e.PORT_OFFSET,
    dataDir: e.DATA_DIR ?? instance.dataDir,
    dbSynchronous: e.DB_SYNCHRONOUS,
    log: { level: e.LOG_LEVEL, format: resolveLogFormat(e.LOG_FORMAT) },
    // A process of the store listens on its own port; anything else on any free one.
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT ?? (isProcess(service) ? instance.httpPort(service) : 0) },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    maxInFlight: e.MAX_IN_FLIGHT,
    catalogFile: e.CATALOG_FILE,
    outboxResendWindowMs: e.OUTBOX_RESEND_WINDOW_MS,
    exitOnStdinClose: e.EXIT_ON_STDIN_CLOSE,
    options: own.data as z.output<O>,
  });
}

function resolveLogFormat(format: 'auto' | 'json' | 'pretty'): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return process.stdout.isTTY ? 'pretty' : 'json';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Whether `text` is a URL of a broker reached over TCP: mqtt:// or mqtts://, with a host. */
function isBrokerUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'mqtt:' || u.protocol === 'mqtts:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * One broker, or the nodes of a clustered one, comma-separated (`mqtt://hq-1:1883,mqtt://hq-2:1883`):
 * a client moves on to the next when one is lost (connectBus's `servers`). Each must be mqtt://
 * or mqtts://; a problem names the URL it found.
 */
export const envBrokerUrls = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
  )
  .superRefine((urls, ctx) => {
    if (urls.length === 0) ctx.addIssue({ code: 'custom', message: 'must name a broker, like mqtt://host:1883' });
    for (const u of urls.filter((x) => !isBrokerUrl(x))) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(u)} is not a broker URL like mqtt://host:1883 (mqtt or mqtts; several comma-separated)`,
      });
    }
  });

/** `true`/`false`/`1`/`0`/`yes`/`no` from the environment. */
export const envBoolean = z.stringbool();
export { existingFile as envExistingFile, positiveInt as envPositiveInt, port as envPort };
