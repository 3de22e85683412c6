import type { Logger } from './logger.js';
import { removeStaleSessionFile } from './session.js';

/**
 * How long after the first signal another is the same request passed on, not a second one. One
 * Ctrl-C on `npx pnpm start` reaches the launcher three times: from the terminal (to the whole
 * process group), from pnpm passing it on, and as pnpm's SIGTERM when npx passes it on to pnpm.
 */
const SAME_REQUEST_MS = 1000;

/**
 * Resolves on the first SIGTERM or SIGINT, logging it once; one more, a moment later (a second
 * Ctrl-C), exits at once. Under a supervisor that
 * sets EXIT_ON_STDIN_CLOSE=true (`pnpm start`), the end of stdin counts as SIGTERM: the
 * supervisor's end closes that pipe however it died, even by SIGKILL, so no service outlives it.
 * A supervisor killed that way leaves its session file in `dataDir`: the first of its services
 * to notice removes it.
 */
export function untilSignal(
  log: Logger,
  opts: { exitOnStdinClose?: boolean; dataDir?: string } = {},
): Promise<NodeJS.Signals> {
  if (opts.exitOnStdinClose) {
    const { dataDir } = opts;
    const removeSessionFile = (waitMs: number) => {
      try {
        if (dataDir !== undefined) removeStaleSessionFile(dataDir, waitMs);
      } catch {
        // best effort: the next grocer or pnpm start removes it too
      }
    };
    process.stdin.once('close', () => {
      // Whoever read our stdout is gone too: a sync log write to that socket can spin forever
      // on EAGAIN in pino's writer, blocking the shutdown itself. Nobody is listening; go quiet.
      log.level = 'silent';
      removeSessionFile(500);
      process.kill(process.pid, 'SIGTERM');
    });
    // However we end: a live supervisor holds its lock and this does nothing, without waiting.
    process.once('exit', () => removeSessionFile(0));
    process.stdin.resume();
  }
  return new Promise((resolve) => {
    let first: number | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (first === undefined) {
        first = Date.now();
        log.info({ signal }, 'shutting down');
        resolve(signal);
      } else if (Date.now() - first >= SAME_REQUEST_MS) {
        process.stderr.write(`${signal} again: exiting without waiting\n`);
        process.exit(130);
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * The end of every service's `main`: log the failure and exit 1, or exit 0. A watchdog ends a
 * shutdown that hangs (a broker that never answers) so the process never outlives its stop.
 */
export function runMain(service: string, run: (onStopping: () => void) => Promise<void>, watchdogMs = 15_000): void {
  const startWatchdog = (): void => {
    setTimeout(() => {
      process.stderr.write(`${service}: shutdown took longer than ${watchdogMs} ms; exiting\n`);
      process.exit(1);
    }, watchdogMs).unref();
  };
  run(startWatchdog).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${failureLine(service, err)}\n`);
      process.exit(1);
    },
  );
}

/** Why a process could not run, as runMain prints it last: `service: [CODE] message`. */
export function failureLine(service: string, err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? `[${e.code}] ` : '';
  return `${service}: ${code}${typeof e?.message === 'string' ? e.message : String(err)}`;
}

/** The code and message of a line `service` printed, when it is its failure line (runMain's). */
export function parseFailureLine(service: string, line: string): { code: string; message: string } | undefined {
  if (!line.startsWith(`${service}: [`)) return undefined;
  const m = /^\[([A-Z_]+)\] (.*)$/.exec(line.slice(service.length + 2));
  return m ? { code: m[1]!, message: m[2]! } : undefined;
}

/**
 * Node's flags for every service process, wherever it is started (the launcher, the image's
 * CMD, the tests). A service's garbage is small and short-lived messages: a young generation of
 * 4 MB collects it as well as the default 16 MB, and keeps about 25 MB less resident; V8 sized
 * for memory rather than speed grows the old generation less before collecting it (about 18 MB
 * less at peak under `pnpm bench`, for ~5% of the burst rate and ~0.2 ms at p50).
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=4', '--optimize-for-size'] as const;
