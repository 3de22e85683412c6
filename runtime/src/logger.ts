import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { BaseConfig } from './config.js';
import { LAUNCHED_WIDTH, prettyLine, type PrettyOptions } from './pretty.js';
import { createRepeatFilter, REPEAT_WINDOW_MS, type RepeatFilter } from './repeats.js';

export type { Logger } from 'pino';

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

/** The level pino numbers a warning with: the only level whose repeats are held back. */
const WARN = 40;

/**
 * The fields naming a warning's kind, beyond its message: `repeatKey` names them, e.g.
 * `log.warn({ topic, repeatKey: 'topic' }, 'message on a topic with no handler')` counts each
 * topic apart. The other fields (an event id, a figure) vary from one warning to the next.
 */
function kindOf(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (fields === undefined || fields instanceof Error) return {};
  const names = [fields.repeatKey].flat().filter((n): n is string => typeof n === 'string');
  return Object.fromEntries(names.map((n) => [n, fields[n]]));
}

/**
 * pino's hook before each record: a warning of a kind already printed in this window (the same
 * message, `repeatKey` fields and child bindings) is counted instead, and its count printed
 * later. Errors and info lines always pass: an error is never hidden, and info is one line per
 * event.
 */
function holdRepeats(filter: RepeatFilter): LogMethodHook {
  return function (this: Logger, args, method, level) {
    if (level !== WARN) return method.apply(this, args);
    const [first, second] = args as unknown[];
    const fields = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : undefined;
    const msg = fields ? second : first;
    if (typeof msg !== 'string') return method.apply(this, args);
    const kind = kindOf(fields);
    const summarise = (repeats: number, windowS: number): void => {
      if (!this.isLevelEnabled('warn')) return;
      method.call(this, { ...kind, repeats, windowS }, `${msg} (repeated ${repeats} times in the last ${windowS} s)`);
    };
    if (filter.admit(JSON.stringify([this.bindings(), msg, kind]), summarise)) method.apply(this, args);
  };
}

export interface CreateLoggerOptions {
  /** How long repeats of a warning are counted before the count is printed. */
  repeatWindowMs?: number;
  /** Where finished lines go: stdout unless a test reads them. */
  write?: (line: string) => void;
}

type LogMethodHook = NonNullable<NonNullable<LoggerOptions['hooks']>['logMethod']>;

/**
 * JSON lines for machines; a short line per record in a terminal (LOG_FORMAT=pretty). A
 * warning repeated within `repeatWindowMs` is counted, not printed again (see createRepeatFilter).
 */
export function createLogger(
  config: Pick<BaseConfig, 'service' | 'log'>,
  { repeatWindowMs = REPEAT_WINDOW_MS, write = stdoutWriter() }: CreateLoggerOptions = {},
): Logger {
  const pretty: PrettyOptions = {
    color: process.env.NO_COLOR === undefined,
    // Under the launcher stdout is a pipe, and the launcher's prefix takes its share of the line.
    width: process.stdout.isTTY ? process.stdout.columns : LAUNCHED_WIDTH,
  };
  const format = config.log.format === 'pretty' ? (line: string) => prettyLine(line, pretty) : (line: string) => line;
  const destination: DestinationStream = { write: (line) => write(format(line)) };
  return pino(
    {
      level: config.log.level,
      base: { service: config.service, pid: process.pid },
      hooks: { logMethod: holdRepeats(createRepeatFilter(repeatWindowMs)) },
    },
    destination,
  );
}
