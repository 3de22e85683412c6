import type { Logger } from './logger.js';
import { removeStaleSessionFile } from './session.js';

/**
 * Resolves on the first SIGTERM or SIGINT; a second one exits at once. Under a supervisor that
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
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'shutting down');
      process.once(signal, () => process.exit(130));
      resolve(signal);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
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
      const e = err as { code?: string; message?: string };
      process.stderr.write(`${service}: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
