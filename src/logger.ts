import pino, { type Logger } from 'pino';
import type { Config } from './config';
import { activeSpanIds, isTracing } from './tracing/trace-context';

export type { Logger };

/**
 * The root logger: JSON lines (to stdout unless `destination` is given), secrets redacted;
 * components take children of it. With tracing on, a line written inside a span carries its
 * traceId and spanId.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.LOG_LEVEL,
    base: { service: 'stockroom' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'token', '*.token', 'password', '*.password'],
      censor: '[redacted]',
    },
    ...(isTracing() ? { mixin: () => activeSpanIds() ?? {} } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}
