import type { AddressInfo } from 'node:net';
import { App as BoltApp, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Pipeline } from '../../framework/pipeline.js';
import type { ChatAdapter } from '../chat-adapter.js';
import { createBoltLogger } from './create-bolt-logger.js';
import { createAppMentionHandler } from './handle-app-mention.js';
import { createButtonClickHandler } from './handle-button-click.js';
import { createSlashCommandHandler, SLASH_COMMAND } from './handle-slash-command.js';
import { RecentDeliveries } from './recent-deliveries.js';
import { BUTTON_ACTION_PREFIX, LINK_ACTION_PREFIX } from './render-slack-reply.js';
import type { SlackHandlerDeps } from './slack-handler-deps.js';
import type { SlackSettings } from './slack-settings.js';
import { SlackSink } from './slack-sink.js';
import { createSlackUserGroups } from './slack-user-groups.js';

export interface StartSlackOptions {
  pipeline: Pipeline;
  settings: SlackSettings;
  log: Logger;
  /** Defaults to 2 s, leaving a second of Slack's 3 s for the network. */
  ackBudgetMs?: number;
  /** How long user-group membership is cached (default 60 s). */
  groupCacheTtlMs?: number;
}

export interface RunningSlackAdapter extends ChatAdapter {
  readonly sink: SlackSink;
  readonly bolt: BoltApp;
  /** HTTP mode: the port the receiver listens on (useful when started on port 0). */
  readonly port?: number;
}

/**
 * Starts Bolt in the configured mode with the /infra command, button clicks and @mentions wired to the
 * pipeline. Awaits `auth.test` (a wrong token fails here, not on the first command) and the listener or
 * the Socket Mode connection, so a returned adapter is really serving.
 */
export async function startSlackAdapter(opts: StartSlackOptions): Promise<RunningSlackAdapter> {
  const { settings, log } = opts;
  const logger = createBoltLogger(log);
  // Replies retry briefly on 5xx and honour Retry-After on 429; alerts go through the sink's own client.
  const clientOptions = { slackApiUrl: settings.apiUrl, retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 } };
  // No conversation store: infrabot keeps no per-conversation state in Bolt, and it costs a lookup per event.
  const common = { token: settings.botToken, logger, clientOptions, convoStore: false as const, deferInitialization: true };
  const bolt =
    settings.mode === 'http'
      ? new BoltApp({ ...common, signingSecret: settings.signingSecret, port: settings.port })
      : new BoltApp({
          ...common,
          receiver: new SocketModeReceiver({
            appToken: settings.appToken,
            logger,
            // Socket Mode's own Web API client (apps.connections.open) is configured here, not by clientOptions.
            installerOptions: { clientOptions: { slackApiUrl: settings.apiUrl } },
          }),
        });
  await bolt.init();

  const deps: SlackHandlerDeps = {
    pipeline: opts.pipeline,
    client: bolt.client,
    groups: createSlackUserGroups({ client: bolt.client, log, ...(opts.groupCacheTtlMs !== undefined ? { ttlMs: opts.groupCacheTtlMs } : {}) }),
    recent: new RecentDeliveries(),
    log,
    ackBudgetMs: opts.ackBudgetMs ?? 2000,
  };
  bolt.command(SLASH_COMMAND, createSlashCommandHandler(deps));
  bolt.action({ type: 'block_actions', action_id: new RegExp(`^${BUTTON_ACTION_PREFIX}`) }, createButtonClickHandler(deps));
  // A link button opens its URL in the browser; the click Slack also sends needs only an acknowledgement.
  bolt.action({ type: 'block_actions', action_id: new RegExp(`^${LINK_ACTION_PREFIX}`) }, async ({ ack }) => ack());
  bolt.event('app_mention', createAppMentionHandler(deps));
  bolt.error(async (err) => {
    log.error({ err: { message: err.message, code: err.code } }, 'Slack listener failed');
  });

  let port: number | undefined;
  if (settings.mode === 'http') {
    const server = await bolt.start(settings.port);
    port = (server.address() as AddressInfo).port;
    log.info({ mode: 'http', port, path: '/slack/events' }, 'Slack adapter listening');
  } else {
    await bolt.start();
    log.info({ mode: 'socket' }, 'Slack adapter connected over Socket Mode');
  }

  const sink = new SlackSink({ botToken: settings.botToken, apiUrl: settings.apiUrl, log });
  return {
    name: 'slack',
    sink,
    bolt,
    ...(port !== undefined ? { port } : {}),
    stop: async () => {
      await bolt.stop();
    },
  };
}
