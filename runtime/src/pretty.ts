/**
 * One short line per log record for a person at a terminal (LOG_FORMAT=pretty): time, level,
 * message, then as many fields as fit. The JSON format keeps every field; this one is read by
 * eye, next to five other services, on a 100-column terminal.
 */
export interface PrettyOptions {
  color: boolean;
  /**
   * Columns an info or debug line may take; fields that do not fit are left out. Warnings
   * and errors show every field: they are what a person has to act on.
   */
  width: number;
}

/**
 * What `pnpm start` leaves of a 100-column terminal once it has put `[gateexit-guardian] ` in
 * front of a service's line.
 */
export const LAUNCHED_WIDTH = 80;

const LEVELS: Readonly<Record<number, { tag: string; color: number }>> = {
  10: { tag: 'TRC', color: 90 },
  20: { tag: 'DBG', color: 34 },
  30: { tag: 'INF', color: 32 },
  40: { tag: 'WRN', color: 33 },
  50: { tag: 'ERR', color: 31 },
  60: { tag: 'FTL', color: 35 },
};
const WARN = 40;
const ERROR = 50;

/**
 * Every line has these, the launcher's prefix says them already, or the message does (a
 * repeated warning's count).
 */
const NOT_SHOWN = new Set([
  'level',
  'time',
  'msg',
  'pid',
  'hostname',
  'service',
  'err',
  'repeatKey',
  'repeats',
  'windowS',
]);
/** A longer field value is cut: the JSON log has it whole. */
const VALUE_MAX = 40;
/** Stack frames shown under an error: where it was thrown, not the whole framework. */
const FRAMES_MAX = 8;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface LogError {
  type?: string;
  code?: string;
  message?: string;
  stack?: string;
}

/** The first 8 characters of an event id: enough to find it in the JSON log or the dead-letter topic. */
export function shortId(id: string): string {
  return UUID.test(id) ? id.slice(0, 8) : id;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function showValue(value: unknown): string {
  if (typeof value === 'string') {
    const text = shortId(oneLine(value));
    if (/[\s"=]/.test(text) || text === '') return cut(JSON.stringify(text), VALUE_MAX);
    // A topic or a path says the most at its end: `…/customer-departure`.
    if (text.length > VALUE_MAX && text.includes('/')) return `…${text.slice(text.lastIndexOf('/'))}`;
    return cut(text, VALUE_MAX);
  }
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return cut(value.map(showValue).join(','), VALUE_MAX);
  }
  if (typeof value === 'object' && value !== null) return cut(JSON.stringify(value), VALUE_MAX);
  return String(value);
}

function showError(err: LogError): string {
  const message = oneLine(err.message ?? '');
  return `err=${err.code ? `${err.code}: ` : ''}${message || (err.type ?? 'error')}`;
}

function paint(color: boolean, code: number, text: string): string {
  return color ? `\u001b[${code}m${text}\u001b[39m` : text;
}

function clock(time: unknown): string {
  const d = new Date(typeof time === 'number' ? time : Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The fields that fit after `head` in `width` columns, in order, stopping at the first that does not. */
function fitting(fields: readonly string[], head: string, width: number): string[] {
  const shown: string[] = [];
  let used = head.length;
  for (const field of fields) {
    used += 1 + field.length;
    if (used > width) break;
    shown.push(field);
  }
  return shown;
}

/** Where an error was thrown: its first stack frames, one per indented line. */
function frames(err: LogError | undefined): string {
  if (!err?.stack) return '';
  return err.stack
    .split('\n')
    .filter((l) => l.trimStart().startsWith('at '))
    .slice(0, FRAMES_MAX)
    .map((l) => `\n    ${l.trim()}`)
    .join('');
}

/** One JSON log line (as pino writes it) as a person reads it, newline-terminated. */
export function prettyLine(json: string, { color, width }: PrettyOptions): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = typeof record.level === 'number' ? record.level : 30;
  const { tag, color: levelColor } = LEVELS[level] ?? { tag: String(level), color: 39 };
  const time = clock(record.time);
  const msg = oneLine(typeof record.msg === 'string' ? record.msg : '');
  const err = typeof record.err === 'object' && record.err !== null ? (record.err as LogError) : undefined;
  const fields = [
    ...(err ? [showError(err)] : []),
    ...Object.entries(record)
      .filter(([key, value]) => !NOT_SHOWN.has(key) && value !== undefined)
      .map(([key, value]) => `${key}=${showValue(value)}`),
  ];
  const shown = level < WARN ? fitting(fields, `${time} ${tag} ${msg}`, width) : fields;
  const tail = shown.length > 0 ? ` ${paint(color, 90, shown.join(' '))}` : '';
  const stack = level >= ERROR ? frames(err) : '';
  return `${time} ${paint(color, levelColor, tag)} ${msg}${tail}${paint(color && stack !== '', 90, stack)}\n`;
}

/** `1 item`, `3 items`: a count as a log line says it. */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
