/**
 * The neutral message the engine produces and every adapter renders: a command's reply (src/framework/reply.ts
 * names it Reply) and every notification (alerts, incidents, schedule results). No platform knowledge here.
 */
export type Severity = 'info' | 'success' | 'warning' | 'critical';

/** How the invocation ended; also what the audit log records. */
export type Outcome = 'ok' | 'denied' | 'invalid' | 'failed' | 'confirm' | 'duplicate';

export interface ReplyField {
  name: string;
  value: string;
  inline?: boolean;
}

export interface ReplyTable {
  columns: string[];
  rows: string[][];
}

export interface ReplyButton {
  label: string;
  style?: 'primary' | 'danger';
  /** Id of a stored action (see ActionStore): the adapter sends it back on click. */
  actionId: string;
}

export interface ReplyAttachment {
  filename: string;
  contentType: string;
  /** Text as is, or binary data (a PNG chart) in base64 when `encoding` says so. */
  content: string;
  encoding?: 'base64';
}

/** The bytes of an attachment, whichever way its content is stored. */
export const attachmentBytes = (a: ReplyAttachment): Buffer => Buffer.from(a.content, a.encoding === 'base64' ? 'base64' : 'utf8');

export interface Reply {
  title: string;
  text?: string;
  fields?: ReplyField[];
  table?: ReplyTable;
  severity: Severity;
  /** Errors and denials are shown only to the caller; control changes go to the channel. */
  visibility: 'ephemeral' | 'channel';
  buttons?: ReplyButton[];
  attachments?: ReplyAttachment[];
  /** Links to elsewhere (runbook, dashboard): link buttons in chat, `label: url` lines in a terminal. http(s) only. */
  links?: { label: string; url: string }[];
  /** An image to show with the message (a Grafana panel render). http(s) only. */
  imageUrl?: string;
  /** A command line the user can type to do what a button does (text adapters show it). */
  hint?: string;
  outcome: Outcome;
  traceId: string;
  time: string;
  /**
   * Structured result for scripts and the HTTP API (`infrabot run --json`): booleans, numbers, ISO times and
   * ids, never emoji or display text. Its shape is the subcommand's `data` schema (docs/commands.md).
   */
  data?: unknown;
  /** Why the command did not run as asked (every outcome but ok and duplicate): a stable code and the message. */
  error?: ReplyError;
}

/** `infra_*` codes scripts and the HTTP API branch on; the message is the one the user sees. */
export interface ReplyError {
  code: ReplyErrorCode;
  message: string;
}

export type ReplyErrorCode =
  | 'infra_unknown_command'
  | 'infra_usage'
  | 'infra_not_found'
  | 'infra_conflict'
  | 'infra_denied'
  | 'infra_invalid_state'
  | 'infra_confirmation_required'
  | 'infra_busy'
  | 'infra_internal'
  /** The command ran and what it checked failed (a broken audit chain, a failed probe); `data` says what. */
  | 'infra_check_failed';

/** The engine's name for it: one message, whether it answers a command or notifies a channel. */
export type Message = Reply;
