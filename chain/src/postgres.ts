import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import {
  findPostgres,
  initdb,
  serverDir,
  serverProcess,
  type ServerEvents,
  type ServerProcess,
} from './postgres-server.js';
import { freePort } from './ports.js';

export type { Client as PgClient } from 'pg';

export interface Postgres {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth on loopback). */
  readonly url: string;
  readonly dataDir: string;
  readonly output: () => string;
  /** Create an empty database and return its URL. */
  createDatabase(name: string): Promise<string>;
  /** The URL of database `name`, created if it is missing (a second run finds the first's). */
  ensureDatabase(name: string): Promise<string>;
  /** A client connected to `url` (default: the `postgres` database); the caller ends it. */
  connect(url?: string): Promise<pg.Client>;
  /**
   * Send a signal (SIGINT, a fast shutdown, by default: SIGTERM would wait for every client to
   * leave) and wait for the server to exit. SIGKILL takes its backends down with it.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port with the same data directory. */
  restart(): Promise<void>;
  /** Stop, and delete the data unless it lives in a directory the caller gave. */
  dispose(): Promise<void>;
}

export interface PostgresOptions extends ServerEvents {
  /** Where the cluster lives (`<dir>/data`), kept across runs; by default a fresh temp dir. */
  dir?: string;
  /** Its port on 127.0.0.1; by default a free one, picked again on a clash. */
  port?: number;
  /** How long the server may take to accept connections (15 s); a crashed one recovers first. */
  timeoutMs?: number;
}

/** A client of `url` whose connection attempt gives up rather than hang. */
async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  return client;
}

/** Launched on `opts.port`, or on free ports until one is not taken meanwhile; the port it got. */
async function launchOnPort(server: ServerProcess, opts: PostgresOptions): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      await server.launch(port, opts.timeoutMs);
      return port;
    } catch (err) {
      await server.stop('SIGKILL');
      const retry = opts.port === undefined && attempt < 5 && /Address already in use/.test(String(err));
      if (!retry) throw err;
    }
  }
}

/**
 * PostgreSQL on loopback: in a fresh temp dir on a free port by default (the tests'), or in a
 * directory of its own on a port of its own (`pnpm start:chain`), initdb'd on first use.
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<Postgres> {
  const bin = findPostgres();
  if (!bin) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql)');
  const dir = opts.dir === undefined ? mkdtempSync(join(tmpdir(), 'ff-postgres-')) : resolve(opts.dir);
  const remove = () =>
    opts.dir === undefined && rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  let server: ServerProcess | undefined;
  try {
    const as = serverDir(dir);
    const dataDir = join(dir, 'data');
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initdb(bin, dataDir, as);
    server = serverProcess(bin, dataDir, as, opts);
    const port = await launchOnPort(server, opts);
    return handle(server, port, dataDir, remove, opts.timeoutMs);
  } catch (err) {
    await server?.stop('SIGKILL');
    remove();
    throw err;
  }
}

function handle(
  server: ServerProcess,
  port: number,
  dataDir: string,
  remove: () => void,
  timeoutMs: number | undefined,
): Postgres {
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const url = urlOf('postgres');
  async function create(name: string, ifMissing: boolean): Promise<string> {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    const client = await connect(url);
    try {
      const found = ifMissing && (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount;
      if (!found) await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return urlOf(name);
  }
  return {
    port,
    url,
    dataDir,
    output: server.output,
    createDatabase: (name) => create(name, false),
    ensureDatabase: (name) => create(name, true),
    connect: (to = url) => connect(to),
    stop: server.stop,
    restart: () => server.launch(port, timeoutMs),
    async dispose() {
      // A fast shutdown, not SIGKILL: the server then reaps its backends instead of orphaning them.
      await server.stop();
      remove();
    },
  };
}
