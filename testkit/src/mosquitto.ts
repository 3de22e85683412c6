import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findServerBinary } from '@spectrum-grocers/chain';
import { freePorts, waitUntil } from './ports.js';
import { repoPath } from './paths.js';

/** Debian's mosquitto, in /usr/sbin. */
export const findMosquitto = (): string | undefined => findServerBinary('mosquitto');

/**
 * Whether tests that need Mosquitto should be skipped: only when it is missing and we are not
 * in CI. In CI a missing Mosquitto makes them fail (startMosquitto throws), never skip.
 */
export const skipWithoutMosquitto = findMosquitto() === undefined && !process.env.CI;

export interface BrokerAuth {
  /** Text of a Mosquitto password_file. */
  readonly passwordFile: string;
  /** Text of the acl_file (default: the project's generated broker/acl). */
  readonly acl?: string;
}

/**
 * The project's config with its listeners moved to free loopback ports and its data to
 * `dataDir`. With `auth`, its accounts and ACL apply as in production; without, the broker is
 * opened to anonymous clients so suites about other things need no accounts.
 */
export function rewriteConfig(
  conf: string,
  opts: {
    port: number;
    wsPort: number;
    dataDir: string;
    auth?: { passwordFile: string; aclFile: string };
    tls?: { port: number; certsDir: string };
  },
): string {
  const dropped =
    /^\s*(listener|protocol|persistence_location|log_dest|allow_anonymous|password_file|acl_file|cafile|certfile|keyfile|require_certificate|tls_version|use_username_as_clientid|include_dir)\b/;
  const kept = conf.split('\n').filter((line) => !dropped.test(line));
  const access = opts.auth
    ? ['allow_anonymous false', `password_file ${opts.auth.passwordFile}`, `acl_file ${opts.auth.aclFile}`]
    : ['allow_anonymous true'];
  // Each listener's client ids as the config has them; an anonymous test broker has no names to use.
  const namedIds = opts.auth && /^\s*use_username_as_clientid\s+true\b/m.test(conf);
  const ids = namedIds ? ['use_username_as_clientid true'] : [];
  return [
    ...kept,
    ...access,
    `persistence_location ${opts.dataDir}/`,
    'log_dest stderr',
    `listener ${opts.port} 127.0.0.1`,
    'protocol mqtt',
    ...ids,
    `listener ${opts.wsPort} 127.0.0.1`,
    'protocol websockets',
    ...ids,
    ...(opts.tls
      ? [
          `listener ${opts.tls.port} 127.0.0.1`,
          'protocol mqtt',
          `cafile ${opts.tls.certsDir}/ca.crt`,
          `certfile ${opts.tls.certsDir}/server.crt`,
          `keyfile ${opts.tls.certsDir}/server.key`,
          'tls_version tlsv1.2',
          ...ids,
        ]
      : []),
    '',
  ].join('\n');
}

export interface Mosquitto {
  readonly port: number;
  /** The TLS listener's port (0 without `tlsCertsDir`). */
  readonly tlsPort: number;
  readonly url: string;
  readonly dataDir: string;
  readonly output: () => string;
  /** Send a signal (SIGTERM by default) and wait for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port with the same data directory. */
  restart(): Promise<void>;
  /** Freeze (SIGSTOP) or thaw (SIGCONT) the broker. */
  signal(signal: NodeJS.Signals): void;
  /** Stop and delete the data directory. */
  dispose(): Promise<void>;
}

/** Spawn Mosquitto on a free port from `broker/mosquitto.conf` (or `confPath`). */
export async function startMosquitto(
  opts: {
    confPath?: string;
    extraConfig?: string;
    auth?: BrokerAuth;
    /** A directory made by broker/make-dev-ca.sh: adds a TLS listener on `tlsPort`. */
    tlsCertsDir?: string;
  } = {},
): Promise<Mosquitto> {
  const bin = findMosquitto();
  if (!bin) throw new Error('mosquitto is not installed (Debian: apt-get install mosquitto mosquitto-clients)');
  const dataDir = mkdtempSync(join(tmpdir(), 'ff-mosquitto-'));
  // Started as root, Mosquitto drops to the `mosquitto` user before it writes its database.
  chmodSync(dataDir, 0o777);
  const confFile = join(dataDir, 'mosquitto.conf');
  const base = readFileSync(opts.confPath ?? repoPath('broker/mosquitto.conf'), 'utf8');
  let auth: { passwordFile: string; aclFile: string } | undefined;
  if (opts.auth) {
    auth = { passwordFile: join(dataDir, 'passwd'), aclFile: join(dataDir, 'acl') };
    writeFileSync(auth.passwordFile, opts.auth.passwordFile, { mode: 0o644 });
    writeFileSync(auth.aclFile, opts.auth.acl ?? readFileSync(repoPath('broker/acl'), 'utf8'), { mode: 0o644 });
  }

  let child: ChildProcess | undefined;
  let log = '';
  /** Start and wait for "running", which Mosquitto logs once every listener is bound. */
  async function launch(): Promise<void> {
    const proc = spawn(bin!, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const from = log.length;
    proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
    await waitUntil(() => {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}:\n${log.slice(from)}`);
      return / running$/m.test(log.slice(from));
    }, 'mosquitto to start');
  }

  // Ports are picked free but not held; another test may take one first, so try again.
  let port = 0;
  let tlsPort = 0;
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(3);
    [port, tlsPort] = [ports[0]!, opts.tlsCertsDir ? ports[2]! : 0];
    const wsPort = ports[1]!;
    const tls = opts.tlsCertsDir ? { port: tlsPort, certsDir: opts.tlsCertsDir } : undefined;
    writeFileSync(confFile, rewriteConfig(base, { port, wsPort, dataDir, auth, tls }) + (opts.extraConfig ?? ''));
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 5 || !/Address already in use|Unable to create websockets listener/.test(String(err))) {
        child?.kill('SIGKILL');
        rmSync(dataDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  return {
    port,
    tlsPort,
    url: `mqtt://127.0.0.1:${port}`,
    dataDir,
    output: () => log,
    stop,
    restart: launch,
    signal: (s) => child?.kill(s),
    async dispose() {
      await stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
