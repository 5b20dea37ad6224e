import type { AdapterFactory } from '../chat-adapter.js';
import { readSlackSettings, slackConfigured } from './slack-settings.js';
import { startSlackAdapter } from './start-slack-adapter.js';

/** The Slack adapter for `infrabot start`: runs whenever SLACK_BOT_TOKEN is set. */
export const slackAdapterFactory: AdapterFactory = {
  name: 'slack',
  configured: slackConfigured,
  start: ({ app, env, log }) => startSlackAdapter({ pipeline: app.pipeline, settings: readSlackSettings(env), log }),
};
