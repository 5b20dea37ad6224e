import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { Clock } from '../../src/engine/engine.js';
import type { Invocation, Platform } from '../../src/framework/invocation.js';
import { createLogger } from '../../src/log.js';
import { shortId } from '../../src/util/ids.js';

export const TEST_CONFIG = `
clusters:
  api:
    description: Public API
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
    breaker: { cooldown: 5m }
  web:
    rateLimits: { perMinute: 1200, perHour: 50000, perDay: 800000 }
    breaker: { cooldown: 2m }
  db:
    rateLimits: { perMinute: 100, perHour: 1000, perDay: 10000 }
admins: [local:root-admin]
log: { level: debug }
`;

/** A clock tests move by hand. */
export function manualClock(start = '2026-11-21T03:00:00.000Z'): Clock & { advance(ms: number): void; set(iso: string): void } {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    advance: (ms) => {
      now += ms;
    },
    set: (iso) => {
      now = Date.parse(iso);
    },
  };
}

/** Captures pino output so tests can assert on what was logged (and what was not). */
export function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines, text: () => lines.join('\n') };
}

export interface TestApp extends App {
  dir: string;
  keyDir: string;
  dbFile: string;
  logs: ReturnType<typeof logSink>;
  /** Runs a command as a user through the full pipeline. */
  run(text: string, opts?: { as?: string; platform?: Platform; id?: string; confirmed?: boolean; groups?: string[] }): ReturnType<App['pipeline']['handle']>;
  cleanup(): Promise<void>;
}

export async function createTestApp(opts: { clock?: Clock; dir?: string; config?: string; keyDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestApp> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'infrabot-test-'));
  // The audit key lives outside the data directory, as in production; by default next to it.
  const keyDir = opts.keyDir ?? `${dir}-keys`;
  const logs = logSink();
  const config = parseConfig(opts.config ?? TEST_CONFIG, 'test.yaml', {});
  const app = await createApp({
    config,
    dataDir: dir,
    log: createLogger({ level: 'debug', destination: logs.stream }),
    ...(opts.clock ? { clock: opts.clock } : {}),
    keyDir,
    env: opts.env ?? {},
    configFile: 'test.yaml',
  });
  return {
    ...app,
    dir,
    keyDir,
    dbFile: join(dir, 'infrabot.db'),
    logs,
    run: (text, o = {}) => {
      const inv: Invocation = {
        id: o.id ?? shortId(16),
        platform: o.platform ?? 'console',
        user: { id: o.as ?? 'local:root-admin', displayName: (o.as ?? 'local:root-admin').split(':')[1]!, ...(o.groups ? { groups: o.groups } : {}) },
        text,
        ...(o.confirmed ? { confirmed: true } : {}),
      };
      return app.pipeline.handle(inv);
    },
    cleanup: async () => {
      await app.close().catch(() => undefined);
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      if (!opts.keyDir) rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
