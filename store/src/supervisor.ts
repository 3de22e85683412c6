import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serviceVariable } from '@spectrum-grocers/contract';
import { backoffDelay, type Logger } from '@spectrum-grocers/runtime';

const COLORS = [36, 33, 35, 32, 34, 96];

/**
 * A service's environment: the launcher's, then `defaults`, then its own `<SERVICE>_<VARIABLE>`
 * settings (`HELLO_HELPER_HTTP_PORT=9000` sets HTTP_PORT for hello-helper only), then `fixed`,
 * which nothing overrides (the embedded broker's account for it).
 */
export function serviceEnv(
  service: string,
  env: NodeJS.ProcessEnv,
  defaults: Record<string, string>,
  fixed: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const prefix = serviceVariable(service, '');
  const own = Object.fromEntries(
    Object.entries(env)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
  return { ...env, ...defaults, ...own, ...fixed };
}

/** `[hello-helper]   ` in the service's colour (plain when not a terminal). */
export function prefixFor(service: string, index: number, width: number, color: boolean): string {
  const label = `[${service}]`.padEnd(width + 2);
  return color ? `\u001b[${COLORS[index % COLORS.length]}m${label}\u001b[0m ` : `${label} `;
}

export interface Supervisor {
  /** SIGTERM every service and wait for all to exit. */
  stop(): Promise<void>;
}

/**
 * Run each service's built `dist/main.js` as a child process, prefix its output, and restart
 * it with backoff if it dies on its own.
 */
export function superviseServices(opts: {
  services: readonly string[];
  env: (service: string) => NodeJS.ProcessEnv;
  log: Logger;
  color: boolean;
}): Supervisor {
  const width = Math.max(...opts.services.map((s) => s.length));
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  function start(service: string, index: number, attempt: number): void {
    const main = fileURLToPath(new URL(`../../services/${service}/dist/main.js`, import.meta.url));
    const child = spawn(process.execPath, [main], {
      env: { ...opts.env(service), EXIT_ON_STDIN_CLOSE: 'true' },
      // The child's stdin is its lifeline: it closes when this process ends, however it ends.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.set(service, child);
    const prefix = prefixFor(service, index, width, opts.color);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix}${line}\n`));
    }
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      children.delete(service);
      if (stopping) return;
      const next = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
      const delay = backoffDelay(next, 1000, 30_000);
      opts.log.error({ service, code, signal, restartInMs: delay }, `${service} exited; restarting`);
      setTimeout(() => !stopping && start(service, index, next), delay).unref();
    });
  }

  // Never leave a service behind: if this process dies, its children go with it.
  process.once('exit', () => {
    for (const child of children.values()) child.kill('SIGTERM');
  });
  // A closed stdout (`pnpm start | head`) must not take the supervisor down with EPIPE.
  process.stdout.on('error', () => undefined);
  opts.services.forEach((s, i) => start(s, i, 0));
  return {
    async stop() {
      stopping = true;
      await Promise.all(
        [...children.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
