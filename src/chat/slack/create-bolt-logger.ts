import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';

/** Slack token shapes (bot, user, app-level, config); Bolt and the Web API log free text that may hold them. */
const TOKEN_PATTERN = /\b(xox[abposr]|xapp|xoxe(?:\.xox[bp])?)-[A-Za-z0-9-]+/g;

export const scrubTokens = (text: string) => text.replace(TOKEN_PATTERN, '$1-[redacted]');

const RANK: Record<LogLevel, number> = { [LogLevel.DEBUG]: 20, [LogLevel.INFO]: 30, [LogLevel.WARN]: 40, [LogLevel.ERROR]: 50 };

/**
 * Bolt's logger interface over pino, so Bolt, the Web API client and Socket Mode log as JSON with the rest
 * of infrabot. pino's redaction covers structured fields; Bolt logs free text, so tokens are scrubbed from
 * it too. Bolt's debug output is verbose (every HTTP request), so the floor defaults to info.
 */
export function createBoltLogger(log: Logger, floor: LogLevel = LogLevel.INFO): BoltLogger {
  let level = floor;
  // Bolt passes arbitrary values (strings, errors, objects) as its log arguments.
  const format = (msg: unknown[]) =>
    scrubTokens(msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : safeJson(m))).join(' '));
  const emit = (at: LogLevel, write: (text: string) => void) => (...msg: unknown[]) => {
    if (RANK[at] >= RANK[level]) write(format(msg));
  };
  return {
    debug: emit(LogLevel.DEBUG, (t) => log.debug(t)),
    info: emit(LogLevel.INFO, (t) => log.info(t)),
    warn: emit(LogLevel.WARN, (t) => log.warn(t)),
    error: emit(LogLevel.ERROR, (t) => log.error(t)),
    // Bolt calls setLevel with its own default; never go below the floor infrabot chose.
    setLevel: (l) => {
      level = RANK[l] >= RANK[floor] ? l : floor;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
