import { spawn, type ChildProcess } from 'node:child_process';
import { repoPath } from './paths.js';
import { waitUntil } from './ports.js';

export interface LaunchedStore {
  readonly child: ChildProcess;
  /** Resolves with the exit code. */
  readonly exit: Promise<number | null>;
  output(): string;
  /** The HTTP port a service bound (start it with <SERVICE>_HTTP_PORT=0), read from its prefixed log. */
  httpPort(service: string, timeoutMs?: number): Promise<number>;
  /** SIGINT and wait, as Ctrl-C would; SIGKILL if it takes longer than 10 s. */
  readonly stop: () => Promise<void>;
}

/** `pnpm start`'s process: the built launcher (store/dist/main.js) with exactly `env`. */
export function launchStore(env: Record<string, string>): LaunchedStore {
  const child = spawn(process.execPath, [repoPath('store/dist/main.js')], {
    env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    exit,
    output: () => out,
    httpPort: (service, timeoutMs = 20_000) =>
      waitUntil(
        () => {
          const prefix = `[${service}]`;
          for (const line of out.split('\n')) {
            if (!line.startsWith(prefix) || !line.includes('"msg":"http server listening"')) continue;
            return (JSON.parse(line.slice(line.indexOf('{'))) as { port: number }).port;
          }
          if (child.exitCode !== null) throw new Error(`the store exited (${child.exitCode}):\n${out}`);
          return undefined;
        },
        `${service} to listen on HTTP`,
        timeoutMs,
      ),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
