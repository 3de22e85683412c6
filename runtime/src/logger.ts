import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { BaseConfig } from './config.js';

export type { Logger } from 'pino';

const require = createRequire(import.meta.url);

/** How long one log line may wait for a full stdout pipe before it is dropped. */
const FULL_PIPE_PATIENCE_MS = 1000;

/**
 * Log lines to stdout, synchronously, that can never hang the process. pino's own writer retries
 * a write to a closed pipe (EPIPE) forever, which froze services whose supervisor had died. Here
 * a closed stdout silences logging, and a full one is waited on briefly, then the line dropped.
 */
export function stdoutWriter(fd = 1): (text: string) => void {
  let closed = false;
  // After a line was dropped on a full pipe, later lines do not wait until one gets through.
  let congested = false;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return (text) => {
    if (closed) return;
    let buf = Buffer.from(text);
    const deadline = Date.now() + (congested ? 0 : FULL_PIPE_PATIENCE_MS);
    while (buf.length > 0) {
      try {
        buf = buf.subarray(writeSync(fd, buf));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' && Date.now() < deadline) {
          Atomics.wait(pause, 0, 0, 5);
          continue;
        }
        if (code === 'EAGAIN') congested = true;
        else closed = true;
        return;
      }
    }
    congested = false;
  };
}

/** pino-pretty, loaded only when a terminal asks for it: a JSON-logging container never pays its memory. */
function prettify(): (line: string) => string {
  const { prettyFactory } = require('pino-pretty') as typeof PinoPretty;
  return prettyFactory({
    colorize: process.env.NO_COLOR === undefined,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
}

/** JSON lines for machines; a readable line per event in a terminal (LOG_FORMAT). */
export function createLogger(config: Pick<BaseConfig, 'service' | 'log'>): Logger {
  const write = stdoutWriter();
  const format = config.log.format === 'pretty' ? prettify() : (line: string) => line;
  const destination: DestinationStream = { write: (line) => write(format(line)) };
  return pino({ level: config.log.level, base: { service: config.service, pid: process.pid } }, destination);
}
