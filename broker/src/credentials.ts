import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { serviceVariable, SERVICES, UPLINK, WATCHERS } from '@spectrum-grocers/contract';

/**
 * Every account of a locked-down broker: one per service, the uplink's, the control room's, and
 * the observer.
 */
export const ACCOUNTS = [...SERVICES, UPLINK, ...WATCHERS] as const;
export type Account = (typeof ACCOUNTS)[number];

/** The environment variable that carries an account's password, e.g. HELLO_HELPER_MQTT_PASSWORD. */
export function passwordVariable(account: Account): string {
  return serviceVariable(account, 'MQTT_PASSWORD');
}

/** A random password: 24 bytes, URL-safe base64. */
export function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * One line of a Mosquitto 2 `password_file`, as `mosquitto_passwd` writes it: PBKDF2-SHA512,
 * its default 101 iterations, a 12-byte salt (`user:$7$101$salt$hash`). The passwords are
 * random 24-byte secrets, so the low iteration count costs nothing against guessing.
 */
export function mosquittoPasswordLine(user: string, password: string, salt: Buffer = randomBytes(12)): string {
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${user}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * The broker's password file and the `.env` entries that give each account its password.
 * Passwords already in `env` are kept (running services keep working) unless `rotate`.
 */
export function makeCredentials(
  env: Readonly<Record<string, string>>,
  opts: { rotate?: boolean } = {},
): { passwordFile: string; env: Record<string, string> } {
  const out: Record<string, string> = {};
  const lines: string[] = [];
  for (const account of ACCOUNTS) {
    const name = passwordVariable(account);
    const password = (!opts.rotate && env[name]) || newPassword();
    out[name] = password;
    lines.push(mosquittoPasswordLine(account, password));
  }
  return { passwordFile: `${lines.join('\n')}\n`, env: out };
}

/**
 * The variable of the head office's PostgreSQL password under compose (docker-compose.chain.yaml),
 * which `.env` carries beside the accounts' passwords.
 */
export const HQ_DB_PASSWORD = 'HQ_DB_PASSWORD';

/**
 * The `.env` entries of the head office's secrets: its database password, made once and kept even
 * on rotation, since PostgreSQL takes POSTGRES_PASSWORD only when it creates its volume and a new
 * one would lock the head office out of the database it has.
 */
export function makeHqSecrets(env: Readonly<Record<string, string>>): Record<string, string> {
  return { [HQ_DB_PASSWORD]: env[HQ_DB_PASSWORD] || newPassword() };
}

/** `.env` text with `values` set, other lines kept as they were. */
export function mergeEnvFile(existing: string, values: Readonly<Record<string, string>>): string {
  const pending = new Map(Object.entries(values));
  const lines = existing
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map((line) => {
      const key = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)?.[1];
      if (key === undefined || !pending.has(key)) return line;
      const value = pending.get(key)!;
      pending.delete(key);
      return `${key}=${value}`;
    });
  for (const [key, value] of pending) lines.push(`${key}=${value}`);
  return `${lines.join('\n')}\n`;
}
