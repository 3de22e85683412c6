import { existsSync, readFileSync } from 'node:fs';
import { parse as parseEnv } from 'dotenv';
import mqtt, { type MqttClient } from 'mqtt';
import { DEFAULT_ROOT, serviceVariable, type ProcessName, type TopicRoot } from '@spectrum-grocers/contract';
import {
  chainStoreDataDir,
  portOffsetProblem,
  readSessionFile,
  storeInstance,
  type StoreInstance,
} from '@spectrum-grocers/runtime/session';
import { passwordVariable, type Account } from '@spectrum-grocers/broker';

export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Where a command writes, and the environment it reads: injected, so commands run in tests. */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the user interrupts (Ctrl-C); commands that run until stopped end then. */
  readonly interrupted: Promise<void>;
}

/** A mistake in how grocer was called: one line, exit code 2. */
export class UsageError extends Error {}

/** Something that went wrong while doing it: one line, exit code 1. */
export class CommandError extends Error {}

/** The flags every command that connects takes (node:util parseArgs options). */
export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  /** Another store of the chain than STORE's (`pnpm start:chain`'s are found by name). */
  store: { type: 'string' },
  /** The head office's broker instead of a store's: the whole chain's events. */
  hq: { type: 'string' },
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
} as const;

export interface Settings {
  url: string;
  root: TopicRoot;
  /** Whether `url` is the head office's broker (--hq): it carries every store's events. */
  hq: boolean;
  /** An account's password, when the environment, .env or a running `pnpm start` knows it. */
  passwordOf: (account: Account) => string | undefined;
  username?: string;
  password?: string;
}

/** The store grocer talks to: the environment and `.env`, and what its running `pnpm start` left. */
interface Located {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** What the running `pnpm start` of the store's DATA_DIR left there (none: empty). */
  readonly session: Readonly<Record<string, string>>;
  /** The store of PORT_OFFSET: its ports and DATA_DIR when nothing more precise is set. */
  readonly instance: StoreInstance;
}

function locate(io: Io, store?: string): Located {
  const dotenv = existsSync('.env') ? parseEnv(readFileSync('.env')) : {};
  const env: Record<string, string | undefined> = { ...dotenv, ...io.env };
  if (store !== undefined) {
    const problem = storeProblem(store);
    if (problem) throw new UsageError(`--store ${problem}`);
    env.STORE = store;
    // A store of `pnpm start:chain`, found by its name, unless DATA_DIR says where to look.
    if (!env.DATA_DIR && existsSync(chainStoreDataDir(store))) env.DATA_DIR = chainStoreDataDir(store);
  }
  const offset = env.PORT_OFFSET || '0';
  const problem = portOffsetProblem(offset);
  if (problem) throw new UsageError(`PORT_OFFSET ${problem}, not ${offset}`);
  const instance = storeInstance(Number(offset));
  const dataDir = env.DATA_DIR || instance.dataDir;
  const session = readSessionFile(dataDir, (path) => io.stderr.write(staleSession(path))) ?? {};
  return { env, session, instance };
}

/**
 * Where a process of the store answers HTTP: `<PROCESS>_URL` (CONTROL_ROOM_URL,
 * INVENTORY_INTEL_URL) from the environment, `.env` or the running `pnpm start`, else its port
 * on this machine.
 */
export function processUrl(io: Io, process: ProcessName): { url: string; variable: string } {
  const { env, session, instance } = locate(io);
  const variable = serviceVariable(process, 'URL');
  const url = env[variable] || session[variable] || `http://localhost:${instance.httpPort(process)}`;
  return { url: url.replace(/\/$/, ''), variable };
}

/**
 * Ask a process of the store over HTTP (10 s at most); its JSON answer, or a CommandError saying
 * why there is none.
 */
export async function askProcess(
  at: { url: string; variable: string },
  name: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; ok: boolean; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(`${at.url}${path}`, { ...init, signal: AbortSignal.timeout(ANSWER_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
    const why =
      (err as Error).name === 'TimeoutError'
        ? `no answer within ${ANSWER_MS / 1000} s`
        : (cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message);
    throw new CommandError(`cannot reach ${name} at ${at.url} (${why}); is the store running? set ${at.variable}`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: res.status, ok: res.ok, body: body && typeof body === 'object' ? body : {} };
}

/** How long grocer waits for any one answer: a broker's, a process's. */
export const ANSWER_MS = 10_000;

/**
 * Where the broker is and with which account: flags, then the environment and `.env`, then
 * what a running `pnpm start` left in DATA_DIR (its embedded broker and accounts), then the
 * broker of the store of PORT_OFFSET on this machine.
 */
export function settings(
  io: Io,
  flags: { url?: string; username?: string; password?: string; store?: string; hq?: string },
): Settings {
  const { env, session, instance } = locate(io, flags.store);
  const pick = (name: string) => env[name] || session[name] || undefined;
  const url =
    flags.hq ??
    flags.url ??
    env.MQTT_URL ??
    session.MQTT_URL ??
    `mqtt://localhost:${env.MQTT_PORT || instance.mqttPort}`;
  if (!/^(mqtts?|wss?):\/\//.test(url)) throw new UsageError(`not a broker URL: ${url} (mqtt://host:port)`);
  return {
    url,
    hq: flags.hq !== undefined,
    root: { chain: env.CHAIN ?? DEFAULT_ROOT.chain, store: env.STORE ?? DEFAULT_ROOT.store },
    passwordOf: (account) => pick(passwordVariable(account)),
    username: flags.username ?? env.MQTT_USERNAME,
    password: flags.password ?? env.MQTT_PASSWORD,
  };
}

/** Why a name cannot be a store's (one topic level, and not the whole chain's), or undefined. */
function storeProblem(store: string): string | undefined {
  if (store === '' || /[/#+]/.test(store) || store.includes('\0'))
    return `must be one topic level (no "/", "#", "+"), not ${JSON.stringify(store)}`;
  return undefined;
}

/** Why grocer does not use the broker a killed `pnpm start` left behind (the file is gone now). */
function staleSession(path: string): string {
  return `grocer: ignored and removed ${path}: the pnpm start that wrote it is no longer running\n`;
}

/** Who grocer connects as: `account` (its password from the settings) unless a user name was given. */
export function identity(s: Settings, account: Account | undefined): { username?: string; password?: string } {
  if (s.username) return { username: s.username, password: s.password };
  const known = account && s.passwordOf(account);
  return known ? { username: account, password: known } : {};
}

/** ` as <user>`, or why there is none: for a message about a connection. */
export function asWhom(s: Settings, account: Account | undefined): string {
  const { username } = identity(s, account);
  if (username) return ` as ${username}`;
  const hint = account ? ` (no password for ${account}: start the store, or set ${passwordVariable(account)})` : '';
  return ` without credentials${hint}`;
}

/** Connect as `account` (its password from the settings) unless a user name was given. */
export async function connect(s: Settings, account: Account | undefined, ms = ANSWER_MS): Promise<MqttClient> {
  const { username, password } = identity(s, account);
  const client = mqtt.connect(s.url, { username, password, reconnectPeriod: 0, connectTimeout: ms, clean: true });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error(`no answer within ${ms / 1000} s`)));
    });
  } catch (err) {
    client.end(true);
    // A refusal (CONNACK) carries a number; a socket's failure a name (ECONNREFUSED), and silence
    // none: no broker there, whoever we are.
    const silent = (err as Error).message === 'connack timeout';
    if (silent || typeof (err as { code?: unknown }).code === 'string') {
      const why = silent ? `no answer within ${ms / 1000} s` : (err as Error).message;
      throw new CommandError(`cannot connect to ${s.url}: ${why}; is the store running?`);
    }
    throw new CommandError(`cannot connect to ${s.url}${asWhom(s, account)}: ${(err as Error).message}`);
  }
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return client;
}

/**
 * `work`'s result, unless the broker closes the connection first (it refused something: MQTT
 * 3.1.1 has no other way to say so) or `ms` pass; then a CommandError that says which. The
 * wait holds the process open, so it never ends without an answer.
 */
export async function beforeClose<T>(
  client: MqttClient,
  work: Promise<T>,
  what: string,
  ms: number | 'unbounded' = ANSWER_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onClose = (): void => undefined;
  const closed = new Promise<never>((_, reject) => {
    onClose = () => reject(new CommandError(`${what}: the broker closed the connection`));
    if (client.disconnected || !client.connected) onClose();
    client.once('close', onClose);
  });
  const late = new Promise<never>((_, reject) => {
    if (ms === 'unbounded') return;
    timer = setTimeout(() => reject(new CommandError(`${what}: no answer from the broker within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, closed, late]);
  } finally {
    clearTimeout(timer);
    client.off('close', onClose);
  }
}

const useColor = (io: Io) => Boolean(io.stdout.isTTY) && io.env.NO_COLOR === undefined;

export function painter(io: Io) {
  const on = useColor(io);
  const wrap = (code: number) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), dim: wrap(2), bold: wrap(1), cyan: wrap(36) };
}
