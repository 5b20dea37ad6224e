/** Sends requests to Bolt's HTTP receiver exactly as Slack does: form-encoded and HMAC-SHA256 signed. */
import { createHmac } from 'node:crypto';

export interface SignOptions {
  secret: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  /** Overrides the computed signature (to forge one). */
  signature?: string;
  retryNum?: number;
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export async function postSigned(url: string, body: string, opts: SignOptions): Promise<{ status: number; text: string; json: () => Record<string, unknown> }> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      // Bolt matches this content type exactly; "; charset=utf-8" would be a 400.
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': opts.signature ?? slackSignature(opts.secret, timestamp, body),
      ...(opts.retryNum !== undefined ? { 'x-slack-retry-num': String(opts.retryNum), 'x-slack-retry-reason': 'http_timeout' } : {}),
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, json: () => (text ? (JSON.parse(text) as Record<string, unknown>) : {}) };
}

let seq = 0;

export interface SlashCommandFields {
  text: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  trigger_id?: string;
  response_url: string;
}

/** A slash-command body with every field Slack sends. */
export function slashCommandBody(f: SlashCommandFields): string {
  const n = ++seq;
  return new URLSearchParams({
    token: 'verification-token-unused',
    team_id: 'TFAKE',
    team_domain: 'fake',
    channel_id: f.channel_id ?? 'CINCIDENT',
    channel_name: 'incident',
    user_id: f.user_id ?? 'UANA',
    user_name: f.user_name ?? 'ana',
    command: '/infra',
    text: f.text,
    api_app_id: 'AFAKE',
    is_enterprise_install: 'false',
    response_url: f.response_url,
    trigger_id: f.trigger_id ?? `${1000 + n}.${n}.trigger${n}`,
  }).toString();
}

export interface ClickFields {
  value: string;
  label: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  response_url: string;
  ephemeral?: boolean;
  trigger_id?: string;
  message_ts?: string;
}

/** A block_actions interactivity body (`payload=<json>`) for a click on one of our buttons. */
export function buttonClickBody(f: ClickFields): string {
  const n = ++seq;
  const payload = {
    type: 'block_actions',
    user: { id: f.user_id ?? 'UANA', username: f.user_name ?? 'ana', name: f.user_name ?? 'ana', team_id: 'TFAKE' },
    api_app_id: 'AFAKE',
    token: 'verification-token-unused',
    container: { type: 'message', message_ts: f.message_ts ?? '1700000000.000001', channel_id: f.channel_id ?? 'CINCIDENT', is_ephemeral: f.ephemeral ?? false },
    trigger_id: f.trigger_id ?? `${2000 + n}.${n}.click${n}`,
    team: { id: 'TFAKE', domain: 'fake' },
    channel: { id: f.channel_id ?? 'CINCIDENT', name: 'incident' },
    message: { type: 'message', ts: f.message_ts ?? '1700000000.000001', text: 'Please confirm' },
    state: { values: {} },
    response_url: f.response_url,
    actions: [
      {
        type: 'button',
        block_id: 'infra_actions_0',
        action_id: 'infra_button_0',
        text: { type: 'plain_text', text: f.label, emoji: true },
        value: f.value,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
