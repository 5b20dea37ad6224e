import type { ControlState } from '../../engine/control-state.js';
import type { NewEvent, UnitOfWorkEffect } from '../../store/store.js';
import { UserError } from '../../user-error.js';
import type { CommandContext } from '../command-context.js';
import type { HandlerReply, Outcome, Reply } from '../reply.js';
import type { Authorized } from './authorize-step.js';
import { makeButton } from './buttons.js';
import { finish, internalError, userErrorReply } from './replies.js';
import type { Parsed, PipelineShared, Run } from './run-context.js';

/** What running the handler decided: the reply, and what to commit with it (nothing of a failed handler). */
export interface Executed {
  reply: Reply;
  /** The reply kept for duplicate deliveries when it differs (a secret shown once is blanked). */
  stored?: Reply;
  outcome: Outcome;
  error?: string;
  events: NewEvent[];
  /** Writes of other stores that commit with the command (only when the handler succeeded). */
  effects: UnitOfWorkEffect[];
  /** Run once the commit has landed (background work that must see the writes). */
  afterCommits: (() => void)[];
  /** State after the events (the base state when there are none). */
  after: ControlState;
  /** One time for the events and the audit record. */
  at: string;
}

/** Step 4: runs the handler on `state`. Never throws for a handler's failure: that is an outcome too. */
export async function executeStep(shared: PipelineShared, run: Run, parsed: Parsed, state: ControlState, auth: Authorized): Promise<Executed> {
  const { inv, traceId } = run;
  const { engine, store, registry } = shared;
  const change = engine.change(state, inv.user.id);
  const effects: UnitOfWorkEffect[] = [];
  const afterCommits: (() => void)[] = [];
  const { visible } = auth;
  const ctx: CommandContext = {
    invocation: inv,
    engine,
    state,
    change,
    store,
    registry,
    roles: auth.roles,
    canSee: (c) => visible === undefined || (c !== undefined && visible.includes(c)),
    ...(visible ? { visibleClusters: visible } : {}),
    now: () => engine.clock.now(),
    button: (label, command, opts) => makeButton(shared, inv, label, command, opts ?? {}),
    ...(shared.services ? { services: shared.services } : {}),
    transactional: (effect, afterCommit) => {
      effects.push(effect);
      if (afterCommit) afterCommits.push(afterCommit);
    },
  };
  try {
    const { outcome: reported, shownOnce, ...out }: HandlerReply = await parsed.sub.handler(parsed.args, ctx);
    const changed = change.events.length > 0;
    const shown = { severity: changed ? 'success' : 'info', visibility: changed ? 'channel' : 'ephemeral', ...out } as const;
    const reply = finish(traceId, reported ?? 'ok', shown, reported ? 'infra_check_failed' : undefined);
    // The reply kept for duplicate deliveries never holds a secret meant to be seen once.
    const stored = shownOnce ? (JSON.parse(JSON.stringify(reply).replaceAll(shownOnce, '[shown once]')) as Reply) : undefined;
    return {
      reply,
      ...(stored ? { stored } : {}),
      outcome: reported ?? 'ok',
      ...(reported ? { error: out.title } : {}), // what the command found, for the audit record
      events: change.events,
      effects,
      afterCommits,
      after: change.state,
      at: change.at,
    };
  } catch (err) {
    const failure = err instanceof UserError
      ? { outcome: 'invalid' as const, error: err.message, reply: userErrorReply(traceId, err) }
      : { outcome: 'failed' as const, error: err instanceof Error ? err.message : String(err), reply: internalError(traceId) };
    if (!(err instanceof UserError)) run.log.error({ err, command: parsed.name }, 'command failed');
    return { ...failure, events: [], effects: [], afterCommits: [], after: state, at: change.at };
  }
}
