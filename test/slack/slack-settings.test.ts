import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBoltLogger, scrubTokens } from '../../src/chat/slack/create-bolt-logger.js';
import { runSlackCli } from '../../src/chat/slack/slack-manifest.js';
import { readSlackSettings, slackConfigured, SlackSettingsError } from '../../src/chat/slack/slack-settings.js';
import { createLogger } from '../../src/log.js';
import { logSink } from '../helpers/test-app.js';

describe('Slack settings from the environment', () => {
  it('chooses Socket Mode when an app token is set, HTTP otherwise', () => {
    expect(readSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-A' })).toMatchObject({ mode: 'socket', apiUrl: 'https://slack.com/api/' });
    expect(readSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's3cret', SLACK_PORT: '8080', SLACK_API_URL: 'http://proxy.local/api' })).toEqual({
      mode: 'http',
      botToken: 'xoxb-1',
      signingSecret: 's3cret',
      port: 8080,
      apiUrl: 'http://proxy.local/api/',
    });
  });

  it('refuses to start HTTP mode with an empty signing secret, saying what to set', () => {
    expect(() => readSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: '  ' })).toThrow(SlackSettingsError);
    expect(() => readSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_SIGNING_SECRET is empty/);
  });

  it('rejects a bot token given as app token and a bad port', () => {
    expect(() => readSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xoxb-2' })).toThrow(/xapp-/);
    expect(() => readSlackSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_PORT: 'eighty' })).toThrow(SlackSettingsError);
  });

  it('is configured only when a bot token is present', () => {
    expect(slackConfigured({})).toBe(false);
    expect(slackConfigured({ SLACK_BOT_TOKEN: 'xoxb-1' })).toBe(true);
  });
});

describe('infrabot slack manifest', () => {
  const run = (args: string[]) => {
    let out = '';
    let err = '';
    const w = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
    const code = runSlackCli(args, { stdout: w((s) => (out += s)), stderr: w((s) => (err += s)) });
    return { code, out, err };
  };

  it('prints an HTTP-mode manifest pointing everything at /slack/events', () => {
    const { code, out } = run(['manifest', '--url', 'https://bot.example.com/']);
    expect(code).toBe(0);
    const m = JSON.parse(out);
    expect(m.features.slash_commands[0]).toMatchObject({ command: '/infra', url: 'https://bot.example.com/slack/events', should_escape: true });
    expect(m.settings).toMatchObject({
      socket_mode_enabled: false,
      interactivity: { is_enabled: true, request_url: 'https://bot.example.com/slack/events' },
      event_subscriptions: { request_url: 'https://bot.example.com/slack/events', bot_events: ['app_mention'] },
    });
    expect(m.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'app_mentions:read', 'files:write', 'usergroups:read']));
  });

  it('prints a Socket Mode manifest without URLs', () => {
    const m = JSON.parse(run(['manifest', '--socket']).out);
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(m.features.slash_commands[0].url).toBeUndefined();
  });

  it('explains usage on a bad subcommand', () => {
    expect(run(['nope'])).toMatchObject({ code: 64, err: expect.stringContaining('Usage: infrabot slack manifest') });
  });
});

describe('Bolt logging through pino', () => {
  it('scrubs tokens from the free text Bolt logs', () => {
    expect(scrubTokens('calling with xoxb-123-456-abcDEF and xapp-1-A1-99-zz')).toBe('calling with xoxb-[redacted] and xapp-[redacted]');
    const logs = logSink();
    const bolt = createBoltLogger(createLogger({ level: 'debug', destination: logs.stream }));
    bolt.warn('token', 'xoxb-999-secret', { headers: { authorization: 'Bearer xoxb-999-secret' } });
    bolt.debug('below the floor');
    expect(logs.text()).not.toContain('999-secret');
    expect(logs.text()).not.toContain('below the floor');
  });
});
