import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { isExecutable } from './executables.js';
import { processOutput } from './output.js';
import { killGroup, startServer, type Server } from './server.js';
import { waitUntil } from './ports.js';

/**
 * The directory of the newest PostgreSQL's `initdb` and `postgres`: Debian keeps them per major
 * version under /usr/lib/postgresql, off PATH.
 */
export function findPostgres(): string | undefined {
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    // not Debian's layout
  }
  const dirs = [
    ...versions.map((v) => join('/usr/lib/postgresql', v, 'bin')),
    ...(process.env.PATH ?? '').split(delimiter),
  ];
  return dirs.find((dir) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres')));
}

/** Who runs the server, and where: initdb and postgres refuse to run as root. */
export type RunAs = { uid?: number; gid?: number; cwd: string };

/** As root, Debian's `postgres` user; otherwise whoever we are. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('postgres:'));
  if (!entry) throw new Error('PostgreSQL refuses to run as root and there is no postgres user to run it as');
  const [, , uid, gid] = entry.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * `dir` made (if missing) and handed to the server's user. As root, the server runs as `postgres`,
 * who must also pass through the directories above it: those inside the working directory that
 * are private (the stores make `data/` 0700) get the search bit for others, which lists nothing.
 */
export function serverDir(dir: string): RunAs {
  const user = serverUser();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!user) return { cwd: dir };
  chownSync(dir, user.uid, user.gid);
  const base = process.cwd();
  for (let up = dirname(resolve(dir)); !relative(base, up).startsWith('..') && up !== base; up = dirname(up)) {
    const mode = statSync(up).mode;
    if ((mode & 0o001) === 0) chmodSync(up, (mode & 0o7777) | 0o001);
  }
  return { ...user, cwd: dir };
}

/** A fresh cluster in `dataDir` with one superuser, `postgres`, trusted on loopback. */
export async function initdb(bin: string, dataDir: string, as: RunAs): Promise<void> {
  // --no-sync: initdb's own flushes only; the server keeps fsync on, as in production.
  const args = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'];
  try {
    await promisify(execFile)(join(bin, 'initdb'), args, { ...as, timeout: 20_000 });
  } catch (err) {
    const why = String((err as { stderr?: string }).stderr ?? err).trim();
    const hint =
      as.uid !== undefined && /Permission denied/.test(why)
        ? ` (as root, PostgreSQL runs as the postgres user, who must be able to reach ${dataDir})`
        : '';
    throw new Error(`initdb failed: ${why}${hint}`);
  }
}

export interface ServerEvents {
  /** Each line the server writes, as it comes. */
  onLine?: (line: string) => void;
  /** The server ended after it had started, and nobody stopped it. */
  onExit?: (how: string) => void;
}

/** The server process over one data directory: started, stopped and started again. */
export function serverProcess(bin: string, dataDir: string, as: RunAs, events: ServerEvents = {}) {
  let server: Server | undefined;
  const out = processOutput(events.onLine);
  async function launch(port: number, timeoutMs = 15_000): Promise<void> {
    // No Unix socket: clients come over TCP, and a deep directory would pass the socket path's limit.
    const settings = ['listen_addresses=127.0.0.1', 'unix_socket_directories=', 'max_connections=100'];
    // The server leads its backends' group.
    server = startServer({
      what: 'postgres',
      command: join(bin, 'postgres'),
      args: ['-D', dataDir, '-p', String(port), ...settings.flatMap((s) => ['-c', s])],
      options: as,
      out,
      timeoutMs,
      onExit: events.onExit,
      ready: (log) => log.includes('database system is ready to accept connections'),
    });
    await server.started;
  }

  async function stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const running = server;
    if (!running?.alive) return;
    await running.stop(signal, 10_000);
    // Backends outlive a SIGKILLed server for a moment, holding its shared memory: a restart
    // before they are gone is refused.
    await waitUntil(() => !killGroup(running.proc, 0), 'the postgres backends to exit', 5_000).catch(() => undefined);
  }
  return { launch, stop, output: out.text };
}

export type ServerProcess = ReturnType<typeof serverProcess>;
