import type { Logger } from './logger.js';

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
export function untilSignal(log: Logger): Promise<NodeJS.Signals> {
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
