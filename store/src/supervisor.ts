import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AppError, serviceVariable } from '@spectrum-grocers/contract';
import { backoffDelay, parseFailureLine, SERVICE_NODE_FLAGS, type Logger } from '@spectrum-grocers/runtime';

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

/** A service's built entry point, `services/<name>/dist/main.js`. */
export function serviceMain(service: string): string {
  return fileURLToPath(new URL(`../../services/${service}/dist/main.js`, import.meta.url));
}

/**
 * Refuse to start when a service's build is missing (a dist/ emptied by hand, a build that
 * failed): restarting it would fail the same way, over and over.
 */
export function checkBuilt(services: readonly string[]): void {
  const missing = services.filter((s) => !existsSync(serviceMain(s)));
  if (missing.length > 0) {
    throw new AppError(
      'CONFIG_INVALID',
      `not built: ${missing.map(serviceMain).join(', ')}; build everything again with: npx -y pnpm@10 build --force`,
    );
  }
}

/** `[hello-helper]   ` in the service's colour (plain when not a terminal). */
export function prefixFor(service: string, index: number, width: number, color: boolean): string {
  const label = `[${service}]`.padEnd(width + 2);
  return color ? `\u001b[${COLORS[index % COLORS.length]}m${label}\u001b[0m ` : `${label} `;
}

/**
 * Failures a restart cannot mend: the same port, the same environment, the same build fail the
 * same way every time. DATA_DIR_IN_USE is not one: the copy of a killed launcher that holds the
 * lock is on its way out.
 */
const FATAL_CODES = ['PORT_IN_USE', 'CONFIG_INVALID', 'CONTRACT_MISMATCH'] as const;
type FatalCode = (typeof FATAL_CODES)[number];
const isFatal = (code: string): code is FatalCode => (FATAL_CODES as readonly string[]).includes(code);

/** A service that stopped with a failure no restart mends, in its own words (runMain's line). */
export interface Fatal {
  readonly service: string;
  readonly code: FatalCode;
  readonly message: string;
}

export interface Supervisor {
  /** SIGTERM every service and wait for all to exit. */
  stop(): Promise<void>;
}

/** How one supervised process is run: node's arguments, and the name its failure line starts with. */
export interface Launch {
  readonly args: readonly string[];
  /** Its name for runMain (`store: [PORT_IN_USE] …`), which may differ from its label. */
  readonly reports: string;
}

/** A service of the store: its built main.js, under the services' node flags. */
const serviceLaunch = (service: string): Launch => ({
  args: [...SERVICE_NODE_FLAGS, serviceMain(service)],
  reports: service,
});

/**
 * Run each service's built `dist/main.js` (or what `launch` says) as a child process, prefix its output, and restart
 * it with backoff if it dies on its own, unless it failed with one of FATAL_CODES: then it stays
 * down and `onFatal` is told, once.
 */
export function superviseServices(opts: {
  services: readonly string[];
  env: (service: string) => NodeJS.ProcessEnv;
  log: Logger;
  color: boolean;
  onFatal: (fatal: Fatal) => void;
  /** How each is run (default: a service of the store). `pnpm start:chain` runs stores and HQ services. */
  launch?: (service: string) => Launch;
  /** The prefixes' width (default: the longest name's), to line up with other output. */
  width?: number;
  /** Told of each process that exited after `stop()` asked it to. */
  onStopped?: (service: string, code: number | null) => void;
}): Supervisor {
  const width = opts.width ?? Math.max(...opts.services.map((s) => s.length));
  const launch = opts.launch ?? serviceLaunch;
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  function start(service: string, index: number, attempt: number): void {
    const { args, reports } = launch(service);
    const child = spawn(process.execPath, args, {
      env: { ...opts.env(service), EXIT_ON_STDIN_CLOSE: 'true' },
      // The child's stdin is its lifeline: it closes when this process ends, however it ends.
      stdio: ['pipe', 'pipe', 'pipe'],
      // A process group of its own: Ctrl-C signals the terminal's foreground group, and the
      // services are this supervisor's to stop (SIGTERM, once), not the terminal's.
      detached: true,
    });
    children.set(service, child);
    const prefix = prefixFor(service, index, width, opts.color);
    let failure: { code: string; message: string } | undefined;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        failure = parseFailureLine(reports, line) ?? failure;
        process.stdout.write(`${prefix}${line}\n`);
      });
    }
    const startedAt = Date.now();
    // 'close', not 'exit': its output, the failure line with it, has been read by then.
    child.once('close', (code, signal) => {
      children.delete(service);
      if (stopping) return opts.onStopped?.(service, code);
      if (code !== 0 && failure && isFatal(failure.code)) {
        stopping = true;
        opts.onFatal({ service, code: failure.code, message: failure.message });
        return;
      }
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
              child.once('close', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
