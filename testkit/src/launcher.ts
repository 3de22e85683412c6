import { spawn, type ChildProcess } from 'node:child_process';
import { PROCESSES, serviceVariable } from '@spectrum-grocers/contract';
import { repoPath } from './paths.js';
import { freePort, waitUntil } from './ports.js';
import { httpPortFromLog } from './services.js';

export interface LaunchedStore {
  readonly child: ChildProcess;
  /** Resolves with the exit code. */
  readonly exit: Promise<number | null>;
  output(): string;
  /** The HTTP port a service bound (start it with <SERVICE>_HTTP_PORT=0), read from its prefixed log. */
  httpPort(service: string, timeoutMs?: number): Promise<number>;
  /** `http://127.0.0.1:<its port><path>`. */
  url(service: string, path: string): Promise<string>;
  /** SIGINT and wait, as Ctrl-C would; SIGKILL if it takes longer than 10 s. */
  readonly stop: () => Promise<void>;
}

export interface LaunchOptions {
  /** The working directory, where the default DATA_DIR (./data) is (default: this process's). */
  cwd?: string;
  /**
   * The command to run instead of the built launcher, e.g. `[pnpm, 'start']`. It runs in a
   * process group of its own, and `stop()` signals the whole group, as Ctrl-C in a terminal does.
   */
  command?: readonly [string, ...string[]];
}

/** `pnpm start`'s process: the built launcher (store/dist/main.js) with exactly `env`. */
export function launchStore(env: Record<string, string>, opts: LaunchOptions = {}): LaunchedStore {
  const [file, ...args] = opts.command ?? [process.execPath, repoPath('store/dist/main.js')];
  const group = opts.command !== undefined;
  const child = spawn(file, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: opts.cwd,
    detached: group,
  });
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (group) process.kill(-child.pid!, name);
      else child.kill(name);
    } catch {
      // the group is gone already
    }
  };
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const httpPort = (service: string, timeoutMs = 20_000) =>
    waitUntil(
      () => {
        const port = httpPortFromLog(out, `[${service}]`);
        if (port !== undefined) return port;
        if (child.exitCode !== null) throw new Error(`the store exited (${child.exitCode}):\n${out}`);
        return undefined;
      },
      `${service} to listen on HTTP`,
      timeoutMs,
    );
  return {
    child,
    exit,
    output: () => out,
    httpPort,
    url: async (service, path) => `http://127.0.0.1:${await httpPort(service)}${path}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal('SIGINT');
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * `pnpm start` as tests run it: every process (the five services and the control room) on a
 * loopback HTTP port of its own choosing, the embedded broker on a free port, no simulated scans
 * or deliveries.
 */
export async function launchTestStore(dataDir: string, env: Record<string, string> = {}): Promise<LaunchedStore> {
  return launchStore({
    MQTT_PORT: String(await freePort()),
    DATA_DIR: dataDir,
    SIMULATE: 'false',
    RESTOCK_DELAY_S: 'off',
    HTTP_HOST: '127.0.0.1',
    ...Object.fromEntries(PROCESSES.map((s) => [serviceVariable(s, 'HTTP_PORT'), '0'])),
    ...env,
  });
}
