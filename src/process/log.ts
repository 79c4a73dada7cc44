// One pino logger for the process; modules take child loggers carrying runner/namespace/revision.
import { pino, type Logger } from 'pino';

export function createLogger(level = process.env.HESTIA_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'hestia', level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
