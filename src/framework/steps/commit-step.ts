import type { ControlState } from '../../engine/control-state.js';
import type { CommitInput } from '../../store/store.js';
import { shortId } from '../../util/ids.js';
import type { Executed } from './execute-step.js';
import { auditDraft, invocationEffects, type Parsed, type PipelineShared, type Run } from './run-context.js';

/**
 * Step 5: what the store commits for a decided command: its events, the state they leave, the audit record,
 * the reply kept for redeliveries and the writes of other stores, in one transaction. Also returns the state
 * it will leave (known before it lands: event sequence numbers are contiguous) and its version token.
 */
export function commitStep(
  shared: PipelineShared,
  run: Run,
  parsed: Parsed,
  state: ControlState,
  executed: Executed,
  opts: { chained: boolean; cluster?: string },
): { input: CommitInput; after: ControlState; version?: string } {
  const { events } = executed;
  const kept = executed.stored ?? executed.reply;
  // What the invocation keeps of its reply (a schedule's result post) never holds a secret meant to be seen once.
  const effects = [...executed.effects, ...invocationEffects(run, kept)];
  const version = events.length > 0 ? shortId(12) : undefined;
  const after: ControlState = { ...executed.after, seq: state.seq + events.length, ...(version ? { version } : {}) };
  const input: CommitInput = {
    expectedSeq: state.seq,
    ...(opts.chained ? { expectedVersion: state.version ?? '' } : {}),
    ...(version ? { version } : {}),
    events,
    state: after,
    audit: auditDraft(run, shared.engine, executed.outcome, parsed, executed.error, opts.cluster, executed.at),
    invocationKey: run.key,
    reply: kept,
    ...(effects.length ? { effects } : {}),
  };
  return { input, after, ...(version ? { version } : {}) };
}
