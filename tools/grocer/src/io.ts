import { existsSync, readFileSync } from 'node:fs';
import { parse as parseEnv } from 'dotenv';
import mqtt, { type MqttClient } from 'mqtt';
import { type TopicRoot, DEFAULT_ROOT } from '@spectrum-grocers/contract';
import { readSessionFile } from '@spectrum-grocers/runtime/session';
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
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
} as const;

export interface Settings {
  url: string;
  root: TopicRoot;
  /** An account's password, when the environment, .env or a running `pnpm start` knows it. */
  passwordOf: (account: Account) => string | undefined;
  username?: string;
  password?: string;
}

/**
 * Where the broker is and with which account: flags, then the environment and `.env`, then
 * what a running `pnpm start` left in DATA_DIR (its embedded broker and accounts).
 */
export function settings(io: Io, flags: { url?: string; username?: string; password?: string }): Settings {
  const dotenv = existsSync('.env') ? parseEnv(readFileSync('.env')) : {};
  const env: Record<string, string | undefined> = { ...dotenv, ...io.env };
  const session = readSessionFile(env.DATA_DIR ?? './data', (path) => io.stderr.write(staleSession(path))) ?? {};
  const pick = (name: string) => env[name] || session[name] || undefined;
  const url = flags.url ?? env.MQTT_URL ?? session.MQTT_URL ?? `mqtt://localhost:${env.MQTT_PORT ?? '1883'}`;
  if (!/^(mqtts?|wss?):\/\//.test(url)) throw new UsageError(`not a broker URL: ${url} (mqtt://host:port)`);
  return {
    url,
    root: { chain: env.CHAIN ?? DEFAULT_ROOT.chain, store: env.STORE ?? DEFAULT_ROOT.store },
    passwordOf: (account) => pick(passwordVariable(account)),
    username: flags.username ?? env.MQTT_USERNAME,
    password: flags.password ?? env.MQTT_PASSWORD,
  };
}

/** Why grocer does not use the broker a killed `pnpm start` left behind (the file is gone now). */
function staleSession(path: string): string {
  return `grocer: ignored and removed ${path}: the pnpm start that wrote it is no longer running\n`;
}

/** Connect as `account` (its password from the settings) unless a user name was given. */
export async function connect(s: Settings, account: Account | undefined, ms = 10_000): Promise<MqttClient> {
  const known = account && s.passwordOf(account);
  const username = s.username ?? (known ? account : undefined);
  const password = s.username ? s.password : known || undefined;
  const client = mqtt.connect(s.url, { username, password, reconnectPeriod: 0, connectTimeout: ms, clean: true });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed')));
    });
  } catch (err) {
    client.end(true);
    const why = (err as Error).message;
    const who = username ? ` as ${username}` : ' without credentials';
    throw new CommandError(`cannot connect to ${s.url}${who}: ${why}`);
  }
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  return client;
}

const useColor = (io: Io) => Boolean(io.stdout.isTTY) && io.env.NO_COLOR === undefined;

export function painter(io: Io) {
  const on = useColor(io);
  const wrap = (code: number) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), dim: wrap(2), bold: wrap(1), cyan: wrap(36) };
}
