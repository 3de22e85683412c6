import { spawn, type ChildProcess } from 'node:child_process';
import { SERVICE_NODE_FLAGS } from '@spectrum-grocers/runtime';
import { waitUntil } from './ports.js';
import { repoPath } from './paths.js';

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code when the process ends on its own (null if killed by a signal). */
  readonly exited: Promise<number | null>;
  output(): string;
  /** Wait for a log line containing `text`. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  /** The port its HTTP server bound (start it with HTTP_PORT=0), read from its JSON log. */
  httpPort(timeoutMs?: number): Promise<number>;
  /** Send `signal` and resolve with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/**
 * How tests run a service: no simulated scans or deliveries, HTTP on a loopback port the service picks
 * (read it back with `httpPort()`), and quick reconnects.
 */
export const TEST_SERVICE_ENV = {
  SIMULATE: 'false',
  // No simulated supplier: a test's stock is what its departures and deliveries make it.
  RESTOCK_DELAY_S: 'off',
  HTTP_HOST: '127.0.0.1',
  HTTP_PORT: '0',
  MQTT_RECONNECT_MIN_MS: '100',
  MQTT_RECONNECT_MAX_MS: '1000',
} as const;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/**
 * The port a service logged that its HTTP server bound, from its JSON log lines; `prefix`
 * picks one service's lines out of `pnpm start`'s output (`[hello-helper] {...}`).
 */
export function httpPortFromLog(out: string, prefix = ''): number | undefined {
  for (const line of out.split('\n')) {
    if (!line.startsWith(prefix) || !line.includes('"msg":"http server listening"')) continue;
    return (JSON.parse(line.slice(line.indexOf('{'))) as { port: number }).port;
  }
  return undefined;
}

/** Run a service's built output (`services/<name>/dist/main.js`) with exactly `env`. */
export function spawnService(name: string, env: Record<string, string>): ServiceProcess {
  return spawnNode(name, [...SERVICE_NODE_FLAGS, repoPath(`services/${name}/dist/main.js`)], {
    LOG_FORMAT: 'json',
    ...env,
  });
}

/** Run node with `args` from the repository's root, with exactly `env` (and PATH); killed if the test process exits. */
export function spawnNode(name: string, args: readonly string[], env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: repoPath('.'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return {
    name,
    child,
    exited,
    output: () => out,
    waitForLog: async (text, timeoutMs = 15_000) => {
      await waitUntil(() => out.includes(text) || child.exitCode !== null, `${name} to log "${text}"`, timeoutMs);
      if (!out.includes(text)) throw new Error(`${name} exited (${child.exitCode}) before logging "${text}":\n${out}`);
    },
    httpPort: (timeoutMs = 15_000) =>
      waitUntil(
        () => {
          const port = httpPortFromLog(out);
          if (port !== undefined) return port;
          if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}):\n${out}`);
          return undefined;
        },
        `${name} to listen on HTTP`,
        timeoutMs,
      ),
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
