import type { ControlState } from '../../engine/control-state.js';
import type { CommitResult, NewEvent } from '../../store/store.js';
import type { Reply } from '../reply.js';
import { authorizeStep } from './authorize-step.js';
import { commitStep } from './commit-step.js';
import { confirmStep } from './confirm-step.js';
import { executeStep } from './execute-step.js';
import { busyReply, internalError } from './replies.js';
import { answer, auditDraft, type Parsed, type PipelineShared, type Run } from './run-context.js';

const MAX_CONFLICT_RETRIES = 8;

type Settled = { result: CommitResult } | { error: unknown };
type Decision =
  | { final: Promise<Reply> }
  | { commit: Promise<CommitResult>; reply: Reply; events: NewEvent[]; hasEffects: boolean; cluster?: string };

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
 * Steps 2–5 for a parsed command, deciding again if another writer changed the state first.
 * State-changing commands are decided one at a time in this process, each on the state the previous one
 * will leave (its commit may still be queued, so a burst shares one group commit). Such a decision
 * commits only if the stored state is then exactly the version it was decided on, so nothing is ever
 * authorized or decided on a state that does not land. Commands that write other stores (incidents,
 * alerts) keep the lock until their commit lands: their reads of those stores must see the previous one.
 */
export function createDecider(shared: PipelineShared) {
  const exclusive = createMutex();
  /** The state the latest queued state-changing commit will leave, while it is in flight. */
  let pendingState: ControlState | undefined;

  /** authorize → confirm → execute → commit on one state. */
  async function decide(run: Run, parsed: Parsed, chained: boolean): Promise<Decision> {
    const state = (chained && pendingState) || (await shared.engine.state());
    const auth = await authorizeStep(shared, run, parsed, state);
    if ('denied' in auth) {
      return { final: answer(shared, run, auth.denied, auditDraft(run, shared.engine, 'denied', parsed, auth.message, auth.cluster)) };
    }
    const { cluster } = auth.ok;
    const stop = await confirmStep(shared, run, parsed, state, cluster);
    if (stop) return { final: answer(shared, run, stop.reply, auditDraft(run, shared.engine, stop.outcome, parsed, stop.error, cluster)) };

    const executed = await executeStep(shared, run, parsed, state, auth.ok);
    const { commit, after, version } = commitStep(shared, run, parsed, state, executed, { chained, ...(cluster ? { cluster } : {}) });
    if (chained && version) {
      pendingState = after;
      const landed = () => {
        if (pendingState === after) pendingState = undefined; // the store has it now, or never will
      };
      commit.then(landed, landed);
    }
    return { commit, reply: executed.reply, events: executed.events, hasEffects: executed.effects.length > 0, ...(cluster ? { cluster } : {}) };
  }

  /** One decision, serialized with the other state-changing ones of this process; the commit settled or in flight. */
  async function decideOnce(run: Run, parsed: Parsed): Promise<{ final: Promise<Reply> } | (Omit<Extract<Decision, { commit: unknown }>, 'commit'> & { commit: Promise<Settled> })> {
    if (!parsed.sub.mutates) {
      const d = await decide(run, parsed, false);
      return 'final' in d ? d : { ...d, commit: settle(d.commit) };
    }
    return exclusive(async () => {
      const d = await decide(run, parsed, true);
      if ('final' in d) return { final: Promise.resolve(await d.final) }; // answered inside the lock, as it read the chained state
      // Writes to other stores: hold the lock until they land. Control events alone: chain on.
      return d.hasEffects ? { ...d, commit: Promise.resolve(await settle(d.commit)) } : { ...d, commit: settle(d.commit) };
    });
  }

  return async function decideAndCommit(run: Run, parsed: Parsed): Promise<Reply> {
    for (let attempt = 1; ; attempt++) {
      const decided = await decideOnce(run, parsed);
      if ('final' in decided) return await decided.final;
      const { reply, events, cluster } = decided;
      const settled = await decided.commit;
      if ('error' in settled) {
        const err = settled.error;
        // The transaction failed as a whole (a broken effect, a full disk): nothing of it was kept. Say so,
        // and record the failure on its own if the store still takes writes.
        run.log.error({ err, command: parsed.name }, 'commit failed; nothing was changed');
        return answer(shared, run, internalError(run.traceId), auditDraft(run, shared.engine, 'failed', parsed, err instanceof Error ? err.message : String(err), cluster));
      }
      const { result } = settled;
      if (result.ok) {
        if (events.length > 0) run.log.info({ command: parsed.name, events: events.map((e) => e.event.type) }, 'control state changed');
        return reply;
      }
      if (result.reason === 'duplicate') {
        // A concurrent delivery of the same invocation committed first; its result stands and ours is dropped.
        run.log.info({ invocation: run.key }, 'concurrent duplicate delivery dropped');
        return result.reply;
      }
      pendingState = undefined; // what was chained on the old state conflicts too: start from the store
      if (attempt >= MAX_CONFLICT_RETRIES) {
        run.log.error({ command: parsed.name, attempts: attempt }, 'gave up: control state kept changing under this command');
        return answer(shared, run, busyReply(run.traceId), auditDraft(run, shared.engine, 'failed', parsed, 'control state kept changing', cluster));
      }
      run.log.debug({ attempt }, 'state changed concurrently; deciding again');
    }
  };
}
