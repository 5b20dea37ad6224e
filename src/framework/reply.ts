import type { Reply, Severity } from '../engine/message.js';

// The reply is the engine's neutral message (src/engine/message.ts); the framework only adds what handlers return.
export {
  attachmentBytes,
  type Outcome,
  type Reply,
  type ReplyAttachment,
  type ReplyButton,
  type ReplyError,
  type ReplyErrorCode,
  type ReplyField,
  type ReplyTable,
  type Severity,
} from '../engine/message.js';

/** What a handler returns; the pipeline fills in outcome, trace id and time. */
export type HandlerReply<D = unknown> = Omit<Reply, 'outcome' | 'traceId' | 'time' | 'visibility' | 'severity' | 'data' | 'error'> & {
  severity?: Severity;
  visibility?: Reply['visibility'];
  /**
   * The command ran, and what it reports is a failure (a broken audit chain, a failed probe): the reply's
   * outcome is then 'failed', which the CLI turns into exit code 1 and the audit log records. What it did
   * still commits (a probe result counts toward its check).
   */
  outcome?: 'failed';
  data?: D;
  /**
   * A secret shown to the caller once (a new API key): it is replaced in the reply kept for duplicate
   * deliveries, so it is never stored in plain text.
   */
  shownOnce?: string;
};
