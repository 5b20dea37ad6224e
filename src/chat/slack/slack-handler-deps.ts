import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Pipeline } from '../../framework/pipeline.js';
import type { RecentDeliveries } from './recent-deliveries.js';
import type { SlackUserGroups } from './slack-user-groups.js';

/** What the Slack listeners share: the pipeline and nothing else of infrabot, plus Slack-side helpers. */
export interface SlackHandlerDeps {
  pipeline: Pipeline;
  groups: SlackUserGroups;
  client: webApi.WebClient;
  recent: RecentDeliveries;
  log: Logger;
  /** How long a command may run before the ack says "working on it" (Slack allows 3 s in total). */
  ackBudgetMs: number;
}
