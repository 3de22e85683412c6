import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { BaseConfig } from './config.js';

export type { Logger } from 'pino';

/** JSON lines for machines; a readable line per event in a terminal (LOG_FORMAT). */
export function createLogger(config: Pick<BaseConfig, 'service' | 'log'>): Logger {
  const options = { level: config.log.level, base: { service: config.service } };
  if (config.log.format === 'json') return pino(options);
  return pino(
    options,
    pretty({
      sync: true,
      colorize: process.env.NO_COLOR === undefined,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      singleLine: true,
    }),
  );
}
