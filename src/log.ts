import { pino, type DestinationStream, type Logger } from 'pino';
import { activeTraceId } from './tracing/active-trace-id.js';

/** Secrets never reach a log line, whichever object they ride in on. */
export const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', '*.appToken', 'signingSecret', '*.signingSecret',
  'secret', '*.secret', 'password', '*.password', 'authorization', '*.authorization', 'headers.authorization',
  'req.headers.authorization', 'config.slack', 'config.discord', 'hmacSecret', '*.hmacSecret',
];

export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'infrabot',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // With tracing on, every line written inside a span names its trace (docs/observability.md).
      mixin: () => {
        const traceId = activeTraceId();
        return traceId ? { trace_id: traceId } : {};
      },
    },
    opts.destination ?? pino.destination(2),
  );
}
