import { pino, type DestinationStream, type Logger } from 'pino';

/** Secrets never reach a log line, whichever object they ride in on. */
export const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', '*.appToken', 'signingSecret', '*.signingSecret',
  'secret', '*.secret', 'password', '*.password', 'authorization', '*.authorization', 'headers.authorization',
  'req.headers.authorization', 'config.slack', 'config.discord',
];

export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'infrabot',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    opts.destination ?? pino.destination(2),
  );
}
