import { z } from 'zod';

/** Slack's own Web API; SLACK_API_URL replaces it for proxies and tests. */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

const optionalText = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));

const SlackEnvSchema = z.object({
  SLACK_BOT_TOKEN: z.string().trim().min(1, 'SLACK_BOT_TOKEN is required (the xoxb- bot token)'),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText.refine((t) => t === undefined || t.startsWith('xapp-'), {
    message: 'SLACK_APP_TOKEN must be an app-level token starting with xapp-',
  }),
  SLACK_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SLACK_API_URL: optionalText.refine((u) => u === undefined || URL.canParse(u), { message: 'SLACK_API_URL must be a URL' }),
});

export type SlackSettings =
  | { mode: 'http'; botToken: string; signingSecret: string; port: number; apiUrl: string }
  | { mode: 'socket'; botToken: string; appToken: string; signingSecret?: string; apiUrl: string };

export class SlackSettingsError extends Error {
  override name = 'SlackSettingsError';
}

/** True when the environment holds Slack credentials, so `infrabot start` runs the Slack adapter. */
export function slackConfigured(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.SLACK_BOT_TOKEN?.trim());
}

/**
 * Reads the Slack settings from the environment. An app token selects Socket Mode; otherwise HTTP mode,
 * which refuses to start without a signing secret (an empty one would accept forged requests).
 */
export function readSlackSettings(env: NodeJS.ProcessEnv): SlackSettings {
  const parsed = SlackEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new SlackSettingsError(`Slack configuration: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  const e = parsed.data;
  const apiUrl = withTrailingSlash(e.SLACK_API_URL ?? DEFAULT_SLACK_API_URL);
  if (e.SLACK_APP_TOKEN) {
    return {
      mode: 'socket',
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl,
      ...(e.SLACK_SIGNING_SECRET ? { signingSecret: e.SLACK_SIGNING_SECRET } : {}),
    };
  }
  if (!e.SLACK_SIGNING_SECRET) {
    throw new SlackSettingsError(
      'Slack configuration: SLACK_SIGNING_SECRET is empty. HTTP mode needs the signing secret from the app\'s ' +
        '"Basic Information" page (or set SLACK_APP_TOKEN to use Socket Mode).',
    );
  }
  return { mode: 'http', botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, port: e.SLACK_PORT, apiUrl };
}

// The Web API client joins method names onto the base URL, so it must end with a slash.
const withTrailingSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);
