import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { BaseConfig } from './config.js';

export type { Logger } from 'pino';

const require = createRequire(import.meta.url);

/** pino-pretty, loaded only when a terminal asks for it: a JSON-logging container never pays its memory. */
function prettyStream(): DestinationStream {
  const pretty = require('pino-pretty') as typeof PinoPretty;
  return pretty({
    sync: true,
    colorize: process.env.NO_COLOR === undefined,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
}

/** JSON lines for machines; a readable line per event in a terminal (LOG_FORMAT). */
export function createLogger(config: Pick<BaseConfig, 'service' | 'log'>): Logger {
  const options = { level: config.log.level, base: { service: config.service } };
  return config.log.format === 'json' ? pino(options) : pino(options, prettyStream());
}
