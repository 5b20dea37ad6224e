import { parseArgs } from 'node:util';
import { SLASH_COMMAND } from './handle-slash-command.js';

export interface ManifestOptions {
  /** Public base URL of HTTP mode (https://infrabot.example.com); omitted for Socket Mode. */
  url?: string;
  socketMode: boolean;
  name?: string;
}

/** Bot scopes infrabot uses, each for one reason. */
export const BOT_SCOPES = [
  'commands', // the /infra slash command
  'app_mentions:read', // @infrabot <command> in incident threads
  'chat:write', // alerts, replies in threads, updating messages after a click
  'chat:write.public', // alerts to configured channels the bot has not joined
  'channels:history', // after a post timed out, finding the message it may have made (public channels)
  'groups:history', // the same in private channels
  'files:write', // long output attached as a file
  'im:write', // ephemeral long output sent to the caller's DM as a file
  'usergroups:read', // roles granted to Slack user groups
] as const;

/**
 * The app manifest to paste at api.slack.com/apps → "Create New App" → "From an app manifest". HTTP mode
 * points the slash command, events and interactivity at `<url>/slack/events`; Socket Mode needs no URL.
 */
export function createSlackManifest(opts: ManifestOptions) {
  const endpoint = opts.url ? `${opts.url.replace(/\/+$/, '')}/slack/events` : undefined;
  const at = (o: object) => (opts.socketMode || !endpoint ? {} : o);
  return {
    display_information: {
      name: opts.name ?? 'infrabot',
      description: 'Kill-switches, rate limits and circuit breakers from chat.',
      background_color: '#1d2b3a',
    },
    features: {
      bot_user: { display_name: opts.name ?? 'infrabot', always_online: true },
      slash_commands: [
        {
          command: SLASH_COMMAND,
          description: 'Steer kill-switches, rate limits and breakers',
          usage_hint: 'status | cluster disable api --reason "…" | help',
          should_escape: true,
          ...at({ url: endpoint }),
        },
      ],
    },
    oauth_config: { scopes: { bot: [...BOT_SCOPES] } },
    settings: {
      event_subscriptions: { ...at({ request_url: endpoint }), bot_events: ['app_mention'] },
      interactivity: { is_enabled: true, ...at({ request_url: endpoint }) },
      org_deploy_enabled: false,
      socket_mode_enabled: opts.socketMode,
      token_rotation_enabled: false,
    },
  };
}

export const SLACK_CLI_USAGE = `Usage: infrabot slack manifest [--url https://bot.example.com] [--socket]
  Prints a Slack app manifest (JSON) to paste at api.slack.com/apps → Create New App → From a manifest.
  --url      public base URL of HTTP mode; requests go to <url>/slack/events
  --socket   Socket Mode (the default when no --url is given)`;

/** `infrabot slack manifest …`: prints the manifest as JSON, which Slack's manifest editor accepts. */
export function runSlackCli(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { url: { type: 'string' }, socket: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.stderr.write(`infrabot slack: ${(err as Error).message}\n${SLACK_CLI_USAGE}\n`);
    return 64;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(SLACK_CLI_USAGE + '\n');
    return 0;
  }
  if (positionals[0] !== 'manifest') {
    io.stderr.write(`infrabot slack: expected "manifest"\n${SLACK_CLI_USAGE}\n`);
    return 64;
  }
  if (values.url !== undefined && !/^https?:\/\//.test(values.url)) {
    io.stderr.write('infrabot slack manifest: --url needs the public http(s) URL of this bot\n');
    return 64;
  }
  const socketMode = Boolean(values.socket) || values.url === undefined;
  io.stdout.write(JSON.stringify(createSlackManifest({ socketMode, ...(values.url ? { url: values.url } : {}) }), null, 2) + '\n');
  return 0;
}
