import type { Logger } from 'pino';
import type { RoleSources } from '../../auth/authorize.js';
import type { AuditDraft } from '../../audit/audit-record.js';
import type { ControlState } from '../../engine/control-state.js';
import type { Engine } from '../../engine/engine.js';
import type { CommitInput, Store, UnitOfWorkEffect } from '../../store/store.js';
import type { CommandServices } from '../command-context.js';
import type { Invocation } from '../invocation.js';
import type { ParsedCommand } from '../parse-command.js';
import type { Outcome, Reply } from '../reply.js';
import type { Registry } from '../registry.js';

export type Parsed = Extract<ParsedCommand, { kind: 'command' }>;

/** What every step of the pipeline shares, for the life of the process. */
export interface PipelineShared {
  registry: Registry;
  engine: Engine;
  store: Store;
  services?: CommandServices;
  /** Config admins, local admins and `system`, with the stored grants of `state`. */
  roleSources(state: ControlState): RoleSources;
}

/** One invocation on its way through the steps. */
export interface Run {
  inv: Invocation;
  traceId: string;
  /** Platform-qualified delivery key: a redelivery with the same key executes once. */
  key: string;
  log: Logger;
  /** The command name once parsed ("help" for help), for metrics. */
  command?: string;
}

/** The audit record of this invocation ending with `outcome`. */
export function auditDraft(
  run: Run,
  engine: Engine,
  outcome: Outcome,
  parsed?: ParsedCommand,
  error?: string,
  cluster?: string,
  at?: string,
): AuditDraft {
  const { inv } = run;
  return {
    at: at ?? engine.clock.now().toISOString(),
    platform: inv.platform,
    userId: inv.user.id,
    userName: inv.user.displayName,
    ...(inv.user.runBy ? { runBy: inv.user.runBy } : {}),
    ...(inv.channel ? { channel: inv.channel } : {}),
    rawText: inv.text,
    ...(parsed?.kind === 'command' ? { command: parsed.name, args: parsed.args } : parsed ? { command: 'help' } : {}),
    ...(cluster ? { cluster } : {}),
    outcome,
    ...(error ? { error } : {}),
    traceId: run.traceId,
    invocationId: inv.id,
  };
}

/** The write an invocation keeps with its audit record whatever the outcome (a schedule's firing row). */
export const invocationEffects = (run: Run, reply: Reply): UnitOfWorkEffect[] =>
  run.inv.inTransaction ? [(tx) => run.inv.inTransaction!(reply, tx)] : [];

/** The commit of an answer that changes no control state: its audit record and the reply kept for redeliveries. */
export function answerInput(run: Run, reply: Reply, audit: AuditDraft): CommitInput {
  const effects = invocationEffects(run, reply);
  return { expectedSeq: 0, events: [], audit, invocationKey: run.key, reply, ...(effects.length ? { effects } : {}) };
}

/**
 * Commits an answer that changes no control state (help, a denial, a confirmation, bad input) with its audit
 * record. A concurrent delivery that committed first wins: its reply is returned instead.
 */
export async function answer(shared: PipelineShared, run: Run, reply: Reply, audit: AuditDraft): Promise<Reply> {
  const result = await shared.store.commit(answerInput(run, reply, audit));
  if (!result.ok && result.reason === 'duplicate') return result.reply;
  if (!result.ok) throw new Error('audit append reported a conflict without events');
  return reply;
}
