import type { ControlState } from '../../engine/control-state.js';
import type { AuditDraft } from '../../audit/audit-record.js';
import type { CommitInput, CommitResult, NewEvent } from '../../store/store.js';
import type { Reply } from '../reply.js';
import { authorizeStep } from './authorize-step.js';
import { commitStep } from './commit-step.js';
import { confirmStep } from './confirm-step.js';
import { executeStep } from './execute-step.js';
import { internalError } from './replies.js';
import { answer, answerInput, auditDraft, type Parsed, type PipelineShared, type Run } from './run-context.js';

type Settled = { result: CommitResult } | { error: unknown };

/** A command decided on one state: the commit that records it, and what follows once that lands. */
interface Decision {
  input: CommitInput;
  reply: Reply;
  /** An answer that ends the command before its handler (denied, confirm, bad cluster). */
  final: boolean;
  events: NewEvent[];
  /** Writes of other stores go with the commit. */
  hasEffects: boolean;
  afterCommits: (() => void)[];
  /** The state the commit leaves, when it changes the control state. */
  after?: ControlState;
  cluster?: string;
}

/** Runs async work one at a time, in call order. */
function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const result = tail.then(fn, fn);
    tail = result.catch(() => undefined);
    return result;
  };
}

const settle = (commit: Promise<CommitResult>): Promise<Settled> => commit.then((result) => ({ result }), (error: unknown) => ({ error }));

/**
 * Steps 2–5 for a parsed command. State-changing commands are decided one at a time in this process, each on
 * the state the previous one will leave (its commit may still be queued, so a burst shares one group commit),
 * and commit only if the stored state is then exactly the version they were decided on. When another replica
 * changed it first, the store decides the command again on the stored state inside the commit's transaction,
 * holding the audit chain-head lock that serializes every commit: that decision cannot conflict, so a command
 * is never refused for contention and never overwrites what it did not see. Commands that write other stores
 * (incidents, alerts) keep the lock until their commit lands: their reads of those stores must see the previous one.
 */
export function createDecider(shared: PipelineShared) {
  const exclusive = createMutex();
  /** The state the latest queued state-changing commit will leave, while it is in flight. */
  let pendingState: ControlState | undefined;

  const final = (run: Run, reply: Reply, audit: AuditDraft, cluster: string | undefined): Decision => ({
    input: answerInput(run, reply, audit), reply, final: true, events: [], hasEffects: false, afterCommits: [], ...(cluster ? { cluster } : {}),
  });

  /** authorize → confirm → execute on one state, ending in the commit that records the outcome. */
  async function decide(run: Run, parsed: Parsed, state: ControlState, chained: boolean): Promise<Decision> {
    const auth = await authorizeStep(shared, run, parsed, state);
    if ('denied' in auth) return final(run, auth.denied, auditDraft(run, shared.engine, 'denied', parsed, auth.message, auth.cluster), auth.cluster);
    const { cluster } = auth.ok;
    const stop = await confirmStep(shared, run, parsed, state, cluster);
    if (stop) return final(run, stop.reply, auditDraft(run, shared.engine, stop.outcome, parsed, stop.error, cluster), cluster);
    const executed = await executeStep(shared, run, parsed, state, auth.ok);
    const { input, after, version } = commitStep(shared, run, parsed, state, executed, { chained, ...(cluster ? { cluster } : {}) });
    return {
      input, reply: executed.reply, final: false, events: executed.events, hasEffects: executed.effects.length > 0, afterCommits: executed.afterCommits,
      ...(version ? { after } : {}), ...(cluster ? { cluster } : {}),
    };
  }

  return async function decideAndCommit(run: Run, parsed: Parsed): Promise<Reply> {
    /** The decision the commit carries: the first one, or the one made again under the chain-head lock. */
    let decided: Decision | undefined;
    const redecide = async (stored: ControlState | undefined): Promise<CommitInput> => {
      pendingState = undefined; // what this process chained on the old decision conflicts too: read the store
      run.log.debug({ command: parsed.name }, 'state changed concurrently; deciding again under the lock');
      decided = await decide(run, parsed, shared.engine.stateOf(stored), false);
      return decided.input;
    };
    const commit = (d: Decision) => settle(shared.store.commit({ ...(decided = d).input, redecide }));

    let settled: Settled;
    if (!parsed.sub.mutates) settled = await commit(await decide(run, parsed, await shared.engine.state(), false));
    else {
      const { landing } = await exclusive(async () => {
        const d = await decide(run, parsed, pendingState ?? (await shared.engine.state()), true);
        const landing = commit(d);
        const { after } = d;
        if (after) {
          pendingState = after;
          void landing.then(() => {
            if (pendingState === after) pendingState = undefined; // the store has it now, or never will
          });
        }
        // Answers read the chained state and writes to other stores must land first: hold the lock. Control events alone: chain on.
        if (d.final || d.hasEffects) await landing;
        return { landing };
      });
      settled = await landing;
    }

    const d = decided!;
    if ('error' in settled) {
      const err = settled.error;
      // The transaction failed as a whole (a broken effect, a full disk): nothing of it was kept. Say so,
      // and record the failure on its own if the store still takes writes.
      run.log.error({ err, command: parsed.name }, 'commit failed; nothing was changed');
      return answer(shared, run, internalError(run.traceId), auditDraft(run, shared.engine, 'failed', parsed, err instanceof Error ? err.message : String(err), d.cluster));
    }
    const { result } = settled;
    if (result.ok) {
      if (d.events.length > 0) run.log.info({ command: parsed.name, events: d.events.map((e) => e.event.type) }, 'control state changed');
      for (const f of d.afterCommits) f(); // background work that must see the writes
      return d.reply;
    }
    if (result.reason === 'duplicate') {
      // A concurrent delivery of the same invocation committed first; its result stands and ours is dropped.
      run.log.info({ invocation: run.key }, 'concurrent duplicate delivery dropped');
      return result.reply;
    }
    throw new Error('the store reported a conflict for a command it could decide again');
  };
}
