/**
 * Runs the real Slack adapter (Bolt HTTP receiver on an ephemeral port) over a real pipeline, engine and
 * SQLite store in a temp dir, against the fake Slack. The registry is infrabot's commands plus `slowreport`,
 * a test command that takes longer than the ack budget.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { COMMAND_GROUPS } from '../../commands/index.js';
import { startSlackAdapter, type RunningSlackAdapter } from '../../src/chat/slack/start-slack-adapter.js';
import type { SlackSettings } from '../../src/chat/slack/slack-settings.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createEngine, systemClock } from '../../src/engine/engine.js';
import { defineGroup, defineSubcommand } from '../../src/framework/define-command.js';
import { createPipeline, type Pipeline } from '../../src/framework/pipeline.js';
import { createRegistry } from '../../src/framework/registry.js';
import { createLogger } from '../../src/log.js';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { Store } from '../../src/store/store.js';
import { logSink, TEST_CONFIG } from '../helpers/test-app.js';
import { FakeSlack } from './fake-slack.js';

export const SIGNING_SECRET = 'test-signing-secret-8f14e45fceea167a';
export const BOT_TOKEN = 'xoxb-1111-2222-secretbottoken';
export const APP_TOKEN = 'xapp-1-A1-3333-secretapptoken';

/** How long `slowreport` takes; the harness's ack budget is well below it. */
export const SLOW_MS = 700;
export const ACK_BUDGET_MS = 250;

const slowGroup = defineGroup({
  name: 'slowreport',
  summary: 'Test only: a report that takes longer than the ack budget.',
  subcommands: [
    defineSubcommand({
      name: 'slowreport',
      summary: 'Slow report.',
      options: z.object({}),
      role: 'viewer',
      examples: ['slowreport'],
      data: z.object({}),
      handler: async () => {
        await new Promise((r) => setTimeout(r, SLOW_MS));
        return { title: 'Slow report ready', text: 'All clusters nominal.', data: {} };
      },
    }),
  ],
  defaultSubcommand: 'slowreport',
});

export interface SlackHarness {
  fake: FakeSlack;
  adapter: RunningSlackAdapter;
  pipeline: Pipeline;
  store: Store;
  logs: ReturnType<typeof logSink>;
  /** http://127.0.0.1:P/slack/events */
  eventsUrl: string;
  /** The data dir holding the SQLite file. */
  dir: string;
  /** Runs a command as a local admin (to set up roles and state). */
  admin(text: string): ReturnType<Pipeline['handle']>;
  close(): Promise<void>;
}

/**
 * `dir`: an existing data dir to share with another harness (a second replica over the same SQLite file);
 * the harness that created the dir removes it.
 */
export async function startHarness(opts: { mode?: 'http' | 'socket'; fake?: FakeSlack; dir?: string } = {}): Promise<SlackHarness> {
  const fake = opts.fake ?? (await FakeSlack.start());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'infrabot-slack-'));
  const logs = logSink();
  const log = createLogger({ level: 'debug', destination: logs.stream });
  const config = parseConfig(TEST_CONFIG, 'test.yaml', {});
  const store = await createSqlStore({ db: createSqliteDb({ file: join(dir, 'infrabot.db') }) });
  const engine = createEngine({ store, config, clock: systemClock });
  const pipeline = createPipeline({ registry: createRegistry([...COMMAND_GROUPS, slowGroup]), engine, store, log });
  const settings: SlackSettings =
    opts.mode === 'socket'
      ? { mode: 'socket', botToken: BOT_TOKEN, appToken: APP_TOKEN, apiUrl: fake.apiUrl }
      : { mode: 'http', botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, port: 0, apiUrl: fake.apiUrl };
  const adapter = await startSlackAdapter({ pipeline, settings, log, ackBudgetMs: ACK_BUDGET_MS });
  let n = 0;
  return {
    fake,
    adapter,
    pipeline,
    store,
    logs,
    eventsUrl: `http://127.0.0.1:${adapter.port ?? 0}/slack/events`,
    dir,
    admin: (text) =>
      pipeline.handle({ id: `setup-${++n}-${Date.now()}`, platform: 'console', user: { id: 'local:root-admin', displayName: 'root-admin' }, text }),
    close: async () => {
      await adapter.stop().catch(() => undefined);
      await store.close();
      if (!opts.fake) await fake.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
