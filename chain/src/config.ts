import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AppError, UPLINK } from '@spectrum-grocers/contract';
import { CHAIN_DATA_DIR, PORT_OFFSET_STEP } from '@spectrum-grocers/runtime/session';
import { serviceEnv, type Listener } from '@spectrum-grocers/store';
import { findNatsServer } from './nats-node.js';
import { MAX_CHAIN_OFFSET, type ChainPlan, type Part } from './plan.js';
import { findPostgres } from './postgres-server.js';

/** What `pnpm start:chain` reads besides the runtime's variables (LOG_FORMAT, LOG_LEVEL, HTTP_HOST, .env). */
export const ChainEnv = z.object({
  /** Moves every port of the chain (a second chain on this machine: 30). */
  CHAIN_PORT_OFFSET: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_CHAIN_OFFSET)
    .refine((n) => n % PORT_OFFSET_STEP === 0, `must be a multiple of ${PORT_OFFSET_STEP}`)
    .default(0),
  /** Where NATS, PostgreSQL and each store keep their data, reused by the next run. */
  CHAIN_DATA_DIR: z.string().min(1).default(CHAIN_DATA_DIR),
});

/**
 * What the chain sets for each part, never taken from the environment it was started in: an
 * MQTT_URL there would make every store use one broker, a DATA_DIR make them share one.
 */
export const DECIDED_BY_CHAIN = [
  'MQTT_URL',
  'MQTT_PORT',
  'BROKER_ADDRESS',
  'MQTT_SERVERS',
  'MQTT_USERNAME',
  'MQTT_PASSWORD',
  'MQTT_CLIENT_ID',
  'HQ_URL',
  'DATABASE_URL',
  'REPLICA_ID',
  'HTTP_PORT',
  'PORT_OFFSET',
  'DATA_DIR',
  'STORE',
] as const;

/** A part's environment: ours, less what the chain decides; then its defaults, its own settings, and what the chain sets. */
export function partEnv(part: Part, inherited: NodeJS.ProcessEnv, common: Record<string, string>): NodeJS.ProcessEnv {
  const decided = new Set<string>(DECIDED_BY_CHAIN);
  const kept = Object.fromEntries(Object.entries(inherited).filter(([k]) => !decided.has(k)));
  return serviceEnv(part.settings, kept, { ...common, ...part.defaults }, part.env);
}

/** What to install, in one line, when nats-server or PostgreSQL is missing. */
export function serversMissing(): string | undefined {
  const missing = [...(findNatsServer() ? [] : ['nats-server']), ...(findPostgres() ? [] : ['PostgreSQL'])];
  if (missing.length === 0) return undefined;
  return `the head office needs ${missing.join(' and ')}, not installed here (Debian/Ubuntu: apt-get install nats-server postgresql)`;
}

/** A file of the repository, from this package's dist/ or src/. */
export const repoFile = (relative: string): string => fileURLToPath(new URL(`../../${relative}`, import.meta.url));

/** The built entry points the chain runs that are missing: each part's, and the stores' uplink. */
export function notBuilt(plan: ChainPlan): string[] {
  const mains = [...plan.hq, ...plan.stores].map((p) => p.main);
  return [...new Set([...mains, `services/${UPLINK}/dist/main.js`])].filter((m) => !existsSync(repoFile(m)));
}

/** One line naming the taken ports (the first few) and what to do: `beside` moves this chain's ports clear. */
export function portsTaken(taken: readonly Listener[], beside: string): AppError {
  const shown = taken.slice(0, 4).map((l) => `${l.port} (${l.name})`);
  const more = taken.length > shown.length ? ` and ${taken.length - shown.length} more` : '';
  const head = taken.length === 1 ? `port ${shown[0]} is` : `ports ${shown.join(', ')}${more} are`;
  return new AppError(
    'PORT_IN_USE',
    `${head} already in use (another chain, or a pnpm start?): stop it, or run this chain beside it with ${beside}`,
  );
}
