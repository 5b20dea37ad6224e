import type { Logger } from 'pino';
import { holdsAnyRole, type RoleSources } from '../auth/authorize.js';
import type { ControlState } from '../engine/control-state.js';
import type { Engine } from '../engine/engine.js';
import type { EmitLifecycle } from '../engine/lifecycle-events.js';
import type { Store } from '../store/store.js';
import { shortId } from '../util/ids.js';
import type { CommandServices } from './command-context.js';
import type { OptionDescriptor } from './describe-options.js';
import type { Invocation, InvokingUser } from './invocation.js';
import type { Outcome, Reply } from './reply.js';
import type { Registry } from './registry.js';
import { createDecider } from './steps/decide-and-commit.js';
import { handleClick } from './steps/handle-click.js';
import { parseStep } from './steps/parse-step.js';
import { internalError } from './steps/replies.js';
import type { PipelineShared, Run } from './steps/run-context.js';

export interface PipelineDeps {
  registry: Registry;
  engine: Engine;
  /** The store every step commits through; lifecycle events of commits come from its decorator (emitAfterCommit). */
  store: Store;
  log: Logger;
  /** Extra admins for this process, e.g. the local OS user of the console and CLI. */
  localAdmins?: readonly string[];
  /** Services handed to command handlers as `ctx.services` (additive; see CommandServices). */
  services?: CommandServices;
  /** The lifecycle bus: `command.finished` once per answered invocation (metrics subscribe there). */
  lifecycle?: EmitLifecycle;
}

export interface Pipeline {
  /** Runs one invocation through parse → authorize → confirm → execute → commit. Never throws. */
  handle(invocation: Invocation): Promise<Reply>;
  /** Runs a button's stored action as the user who clicked it. */
  handleAction(actionId: string, invocation: Omit<Invocation, 'text' | 'confirmed'>): Promise<Reply>;
  /**
   * Values to offer while a user types an option (chat autocomplete), sorted and matching what was typed:
   * cluster names (plus what the option also accepts), and only to users who hold some role.
   */
  suggest(user: InvokingUser, option: OptionDescriptor, typed: string): Promise<string[]>;
  readonly registry: Registry;
}

/**
 * The one way in for chat, CLI, HTTP and schedules. Each step is its own module (src/framework/steps/):
 * duplicate check → parse → authorize → confirm → execute → commit; lifecycle events follow the commit.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { registry, engine, store, log } = deps;
  const localAdmins = deps.localAdmins ?? [];
  const roleSources = (state: ControlState): RoleSources => ({
    grants: state.grants,
    fixedAdmins: [
      ...engine.bootstrapAdmins().map((subject) => ({ subject, source: 'config' as const })),
      ...localAdmins.map((subject) => ({ subject, source: 'local' as const })),
      // No adapter can present this id (every platform's user ids carry a prefix such as slack: or local:).
      { subject: 'system', source: 'system' as const },
    ],
  });
  const shared: PipelineShared = { registry, engine, store, roleSources, ...(deps.services ? { services: deps.services } : {}) };
  const decideAndCommit = createDecider(shared);

  async function handle(inv: Invocation): Promise<Reply> {
    const traceId = inv.traceId ?? shortId();
    const run: Run = { inv, traceId, key: `${inv.platform}:${inv.id}`, log: log.child({ traceId, platform: inv.platform, user: inv.user.id }) };
    const started = performance.now();
    const finished = (reply: Reply, outcome: Outcome = reply.outcome): Reply => {
      try {
        deps.lifecycle?.({ type: 'command.finished', traceId, ...(run.command ? { command: run.command } : {}), platform: inv.platform, outcome, durationMs: performance.now() - started });
      } catch (err) {
        run.log.error({ err }, 'lifecycle emit failed'); // a bus never throws; a hand-written emit might
      }
      return reply;
    };
    try {
      const earlier = await store.findInvocationReply(run.key);
      if (earlier) {
        run.log.info({ invocation: run.key }, 'duplicate delivery answered with the earlier reply');
        return finished(earlier, 'duplicate');
      }
      const parsed = await parseStep(shared, run);
      return finished('reply' in parsed ? parsed.reply : await decideAndCommit(run, parsed.parsed));
    } catch (err) {
      // Last line of defence: even a broken store must not leave the user without an answer.
      run.log.error({ err }, 'invocation failed outside the command handler');
      return finished(internalError(traceId));
    }
  }

  async function suggest(user: InvokingUser, option: OptionDescriptor, typed: string): Promise<string[]> {
    if (option.infraType !== 'cluster') return [];
    const state = await engine.state();
    const sources = roleSources(state);
    const clusters = Object.keys(state.clusters);
    if (!holdsAnyRole({ id: user.id, groups: user.groups ?? [] }, sources, clusters)) return [];
    const needle = typed.toLowerCase();
    return [...clusters, ...(option.alsoAccepts ?? [])].sort().filter((n) => n.includes(needle));
  }

  return {
    handle,
    handleAction: (actionId, inv) => handleClick({ store, engine, log, handle }, actionId, inv),
    suggest,
    registry,
  };
}
