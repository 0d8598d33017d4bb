import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** The root logger: JSON lines, secrets redacted; components take children of it. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'stockroom' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token', 'password', '*.password'],
      censor: '[redacted]',
    },
  });
}
