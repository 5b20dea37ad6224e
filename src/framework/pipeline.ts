import type { Logger } from 'pino';
import { authorize, authorizeListing, holdsAnyRole, type RoleSources } from '../auth/authorize.js';
import type { AuditDraft } from '../audit/audit-record.js';
import type { Engine } from '../engine/engine.js';
import type { CommitResult, NewEvent, Store, UnitOfWorkEffect } from '../store/store.js';
import type { ControlState } from '../engine/control-state.js';
import { shortId } from '../util/ids.js';
import type { CommandContext, CommandServices } from './command-context.js';
import { UserError } from '../user-error.js';
import { renderHelp } from './render-help.js';
import type { Invocation, InvokingUser } from './invocation.js';
import { describeOptions, type OptionDescriptor } from './describe-options.js';
import { userPlatformPrefix } from './invocation.js';
import { parseCommand, type ParsedCommand } from './parse-command.js';
import { parseStructured } from './parse-structured.js';
import type { HandlerReply, Outcome, Reply, ReplyButton, ReplyErrorCode } from './reply.js';
import type { Registry } from './registry.js';

export interface PipelineDeps {
  registry: Registry;
  engine: Engine;
  store: Store;
  log: Logger;
  /** Extra admins for this process, e.g. the local OS user of the console and CLI. */
  localAdmins?: readonly string[];
  /** Services handed to command handlers as `ctx.services` (additive; see CommandServices). */
  services?: CommandServices;
  /** Lifecycle: every invocation's end (metrics subscribe here); must not throw. */
  onFinished?: (e: InvocationFinished) => void;
}

/** How an invocation ended: the command ("help" for help, undefined when it did not parse), outcome, time. */
export interface InvocationFinished {
  command?: string;
  platform: Invocation['platform'];
  outcome: Outcome;
  durationMs: number;
}

export interface Pipeline {
  /** Runs one invocation through parse → authorize → confirm → execute → audit. Never throws. */
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

const MAX_CONFLICT_RETRIES = 8;
/** How long a Confirm button stays valid: long enough to read, short enough that a stale one is refused. */
const CONFIRMATION_TTL_MS = 15 * 60_000;

/** Runs async work one at a time, in call order. */
function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const result = tail.then(fn, fn);
    tail = result.catch(() => undefined);
    return result;
  };
}

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
  const exclusive = createMutex();
  /** The state the latest queued state-changing commit will leave, while it is in flight; see decideAndCommit. */
  let pendingState: ControlState | undefined;

  async function handle(inv: Invocation): Promise<Reply> {
    const traceId = inv.traceId ?? shortId();
    const key = `${inv.platform}:${inv.id}`;
    const rlog = log.child({ traceId, platform: inv.platform, user: inv.user.id });
    const started = performance.now();
    const seen: { command?: string } = {};
    const finished = (reply: Reply, outcome: Outcome = reply.outcome): Reply => {
      deps.onFinished?.({ ...(seen.command ? { command: seen.command } : {}), platform: inv.platform, outcome, durationMs: performance.now() - started });
      return reply;
    };
    try {
      const earlier = await store.findInvocationReply(key);
      if (earlier) {
        rlog.info({ invocation: key }, 'duplicate delivery answered with the earlier reply');
        return finished(earlier, 'duplicate');
      }
      return finished(await run(inv, traceId, key, rlog, seen));
    } catch (err) {
      // Last line of defence: even a broken store must not leave the user without an answer.
      rlog.error({ err }, 'invocation failed outside the command handler');
      return finished(internalError(traceId));
    }
  }

  async function run(inv: Invocation, traceId: string, key: string, rlog: Logger, seen: { command?: string }): Promise<Reply> {
    const draft = (outcome: Outcome, parsed?: ParsedCommand, error?: string, cluster?: string, at?: string): AuditDraft => ({
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
      traceId,
      invocationId: inv.id,
    });
    const withInvocation = (reply: Reply): UnitOfWorkEffect[] => (inv.inTransaction ? [(tx) => inv.inTransaction!(reply, tx)] : []);
    const answer = async (reply: Reply, audit: AuditDraft): Promise<Reply> => {
      const effects = withInvocation(reply);
      const result = await store.commit({ expectedSeq: 0, events: [], audit, invocationKey: key, reply, ...(effects.length ? { effects } : {}) });
      if (!result.ok && result.reason === 'duplicate') return result.reply;
      if (!result.ok) throw new Error('audit append reported a conflict without events');
      return reply;
    };

    let parsed: ParsedCommand;
    try {
      parsed = inv.command
        ? parseStructured(registry, inv.command, userPlatformPrefix(inv.user.id))
        : parseCommand(registry, inv.text, userPlatformPrefix(inv.user.id));
      seen.command = parsed.kind === 'command' ? parsed.name : 'help';
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      return answer(userErrorReply(traceId, err), draft('invalid', undefined, err.message));
    }
    if (parsed.kind === 'help') {
      const help = renderHelp(registry, parsed.topic);
      const reply = finish(traceId, help.ok ? 'ok' : 'invalid', { ...help.reply, severity: help.ok ? 'info' : 'warning', visibility: 'ephemeral' });
      return answer(reply, draft(reply.outcome, parsed, help.ok ? undefined : help.reply.title));
    }

    return decideAndCommit(parsed);

    /**
     * Decides the command and commits it, deciding again if another writer changed the state first.
     * State-changing commands are decided one at a time in this process, each on the state the previous one
     * will leave (its commit may still be queued, so a burst shares one group commit). Such a decision
     * commits only if the stored state is then exactly the version it was decided on, so nothing is ever
     * authorized or decided on a state that does not land. Commands that write other stores (incidents,
     * alerts) keep the lock until their commit lands: their reads of those stores must see the previous one.
     */
    async function decideAndCommit(parsed: Extract<ParsedCommand, { kind: 'command' }>): Promise<Reply> {
      for (let attempt = 1; ; attempt++) {
        const settle = (commit: Promise<CommitResult>) => commit.then((result) => ({ result }), (error: unknown) => ({ error }));
        const chained = Boolean(parsed.sub.mutates);
        const decided = chained
          ? await exclusive(async () => {
              const d = await decide(parsed, true);
              if ('final' in d) return { final: await d.final };
              // Writes to other stores: hold the lock until they land. Control events alone: chain on.
              return d.hasEffects ? { ...d, commit: Promise.resolve(await settle(d.commit)) } : { ...d, commit: settle(d.commit) };
            })
          : await decide(parsed, false).then((d) => ('final' in d ? d : { ...d, commit: settle(d.commit) }));
        if ('final' in decided) return await decided.final;
        const { reply, events, cluster } = decided;
        const settled = await decided.commit;
        let result;
        if ('result' in settled) result = settled.result;
        else {
          const err = settled.error;
          // The transaction failed as a whole (a broken effect, a full disk): nothing of it was kept. Say so,
          // and record the failure on its own if the store still takes writes.
          rlog.error({ err, command: parsed.name }, 'commit failed; nothing was changed');
          return answer(internalError(traceId), draft('failed', parsed, err instanceof Error ? err.message : String(err), cluster));
        }
        if (result.ok) {
          if (events.length > 0) rlog.info({ command: parsed.name, events: events.map((e) => e.event.type) }, 'control state changed');
          return reply;
        }
        if (result.reason === 'duplicate') {
          // A concurrent delivery of the same invocation committed first; its result stands and ours is dropped.
          rlog.info({ invocation: key }, 'concurrent duplicate delivery dropped');
          return result.reply;
        }
        pendingState = undefined; // what was chained on the old state conflicts too: start from the store
        if (attempt >= MAX_CONFLICT_RETRIES) {
          rlog.error({ command: parsed.name, attempts: attempt }, 'gave up: control state kept changing under this command');
          const busy = finish(traceId, 'failed', {
            title: 'Too busy, nothing changed',
            text: `The control state kept changing while this ran, so nothing was changed. Try again. (ref ${traceId})`,
            severity: 'warning',
          }, 'infra_busy');
          return answer(busy, draft('failed', parsed, 'control state kept changing', cluster));
        }
        rlog.debug({ attempt }, 'state changed concurrently; deciding again');
      }
    }

    /** Authorize, confirm or run the handler, and hand the outcome to the store. */
    async function decide(
      parsed: Extract<ParsedCommand, { kind: 'command' }>,
      chained: boolean,
    ): Promise<{ final: Promise<Reply> } | { commit: Promise<CommitResult>; reply: Reply; events: NewEvent[]; hasEffects: boolean; cluster?: string }> {
      const state = (chained && pendingState) || (await engine.state());
      // An API key carries its own role and clusters; nothing granted elsewhere widens them.
      const roles: RoleSources = inv.grants ? { grants: inv.grants, fixedAdmins: [] } : roleSources(state);
      let cluster: string | undefined;
      try {
        cluster = await parsed.sub.clusterOf?.(parsed.args, deps.services ? { services: deps.services } : {});
      } catch (err) {
        // Unknown ids and the like: the command then needs the role globally, and the handler will say what is wrong.
        if (!(err instanceof UserError)) rlog.warn({ err }, 'cluster lookup failed; checking the role globally');
        cluster = undefined;
      }
      const principal = { id: inv.user.id, groups: inv.user.groups ?? [] };
      const { role } = parsed.sub;
      // An unscoped listing shows a cluster-scoped user the clusters they may see instead of denying them.
      const decision =
        parsed.sub.listsClusters && cluster === undefined && role !== 'anyone'
          ? authorizeListing(principal, role, roles, Object.keys(state.clusters))
          : authorize(principal, role, roles, cluster);
      if (!decision.ok) {
        rlog.info({ command: parsed.name, needed: parsed.sub.role, cluster }, 'denied');
        const reply = finish(traceId, 'denied', { title: 'Not allowed', text: decision.message, severity: 'warning' });
        return { final: answer(reply, draft('denied', parsed, decision.message, cluster)) };
      }

      // A typo'd cluster is refused before a confirmation is asked for something that cannot happen: the
      // cluster options of a changing command, and the cluster a dangerous one acts on (a schedule's command's).
      const danger = parsed.sub.dangerous?.(parsed.args);
      try {
        const named = parsed.sub.mutates || parsed.sub.dangerous ? clustersNamed(parsed) : [];
        for (const name of danger && cluster !== undefined ? [...named, cluster] : named) engine.cluster(state, name);
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        return { final: answer(userErrorReply(traceId, err), draft('invalid', parsed, err.message, cluster)) };
      }

      if (danger && !(inv.confirmed || parsed.confirmed)) {
        const command = inv.text.trim().replace(/^\/?infra\s+/i, '');
        const [confirm, cancel] = await confirmationButtons(inv, command);
        const impact = await parsed.sub.impact?.(parsed.args, deps.services ? { services: deps.services } : {}).catch((err: unknown) => {
          rlog.warn({ err }, 'impact of a dangerous action unknown');
          return undefined;
        });
        const reply = finish(traceId, 'confirm', {
          title: 'Please confirm',
          text: `${danger}${impact ? `\n${impact}` : ''}\nThis is a dangerous action.`,
          severity: 'warning',
          buttons: [confirm, cancel],
          hint: `${command} --yes`,
        });
        return { final: answer(reply, draft('confirm', parsed, undefined, cluster)) };
      }

      const visible = 'visible' in decision ? decision.visible : undefined;
      const change = engine.change(state, inv.user.id);
      const effects: UnitOfWorkEffect[] = [];
      const afterCommits: (() => void)[] = [];
      const ctx: CommandContext = {
        invocation: inv,
        engine,
        state,
        change,
        store,
        registry,
        roles,
        canSee: (c) => visible === undefined || (c !== undefined && visible.includes(c)),
        ...(visible ? { visibleClusters: visible } : {}),
        now: () => engine.clock.now(),
        button: (label, command, opts) => makeButton(inv, label, command, opts ?? {}),
        ...(deps.services ? { services: deps.services } : {}),
        transactional: (effect, afterCommit) => {
          effects.push(effect);
          if (afterCommit) afterCommits.push(afterCommit);
        },
      };
      let reply: Reply;
      let stored: Reply | undefined;
      let outcome: Outcome = 'ok';
      let error: string | undefined;
      let ran = false;
      try {
        const { outcome: reported, shownOnce, ...out }: HandlerReply = await parsed.sub.handler(parsed.args, ctx);
        const changed = change.events.length > 0;
        ran = true;
        if (reported) {
          outcome = reported;
          error = out.title; // what the command found, for the audit record
        }
        const visible = { severity: changed ? 'success' : 'info', visibility: changed ? 'channel' : 'ephemeral', ...out } as const;
        reply = finish(traceId, outcome, visible, reported ? 'infra_check_failed' : undefined);
        // The reply kept for duplicate deliveries never holds a secret meant to be seen once.
        if (shownOnce) stored = JSON.parse(JSON.stringify(reply).replaceAll(shownOnce, '[shown once]')) as Reply;
      } catch (err) {
        if (err instanceof UserError) {
          outcome = 'invalid';
          error = err.message;
          reply = userErrorReply(traceId, err);
        } else {
          outcome = 'failed';
          error = err instanceof Error ? err.message : String(err);
          rlog.error({ err, command: parsed.name }, 'command failed');
          reply = internalError(traceId);
        }
      }
      const events = ran ? change.events : [];
      const hasEffects = ran && effects.length > 0;
      // What the invocation keeps of its reply (a schedule's result post) never holds a secret meant to be seen once.
      const allEffects = [...(ran ? effects : []), ...withInvocation(stored ?? reply)];
      const version = events.length > 0 ? shortId(12) : undefined;
      // Event sequence numbers are contiguous, so the state this commit leaves is known before it lands.
      const after: ControlState = { ...change.state, seq: state.seq + events.length, ...(version ? { version } : {}) };
      const commit = store.commit({
        expectedSeq: state.seq,
        ...(chained ? { expectedVersion: state.version ?? '' } : {}),
        ...(version ? { version } : {}),
        events,
        state: after,
        audit: draft(outcome, parsed, error, cluster, change.at),
        invocationKey: key,
        reply: stored ?? reply,
        ...(allEffects.length ? { effects: allEffects } : {}),
      });
      if (ran && afterCommits.length) void commit.then((r) => r.ok && afterCommits.forEach((f) => f()), () => undefined);
      if (chained && version) {
        pendingState = after;
        const landed = () => {
          if (pendingState === after) pendingState = undefined; // the store has it now, or never will
        };
        commit.then(landed, landed);
      }
      return { commit, reply, events, hasEffects, ...(cluster ? { cluster } : {}) };
    }
  }

  async function makeButton(
    inv: Pick<Invocation, 'user'>,
    label: string,
    command: string,
    opts: { style?: 'primary' | 'danger'; confirmed?: boolean },
  ): Promise<ReplyButton> {
    const id = shortId(12);
    await store.saveAction({ id, command, confirmed: opts.confirmed ?? false, createdBy: inv.user.id, createdAt: engine.clock.now().toISOString() });
    return { label, actionId: id, ...(opts.style ? { style: opts.style } : {}) };
  }

  /** Confirm and Cancel of one dangerous command: single-use together, and only for a short while. */
  async function confirmationButtons(inv: Pick<Invocation, 'user'>, command: string): Promise<[ReplyButton, ReplyButton]> {
    const now = engine.clock.now();
    const common = {
      group: shortId(12),
      command,
      singleUse: true,
      createdBy: inv.user.id,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + CONFIRMATION_TTL_MS).toISOString(),
    };
    const confirm = { ...common, id: shortId(12), kind: 'run' as const, confirmed: true };
    const cancel = { ...common, id: shortId(12), kind: 'cancel' as const, confirmed: false };
    await store.saveAction(confirm);
    await store.saveAction(cancel);
    return [
      { label: 'Confirm', style: 'danger', actionId: confirm.id },
      { label: 'Cancel', actionId: cancel.id },
    ];
  }

  /**
   * A click. Runs the stored command as the clicker (authorized and audited like typed text), or cancels a
   * confirmation. Unknown, expired and already-used buttons are refused, and those refusals are audited too.
   */
  async function handleAction(actionId: string, inv: Omit<Invocation, 'text' | 'confirmed'>): Promise<Reply> {
    const traceId = shortId();
    const rlog = log.child({ traceId, platform: inv.platform, user: inv.user.id });
    try {
      const action = await store.getAction(actionId);
      const now = engine.clock.now();
      const refuse = (title: string, text: string) =>
        recordClick(inv, traceId, `[button ${actionId}]`, 'invalid', finish(traceId, 'invalid', { title, text, severity: 'warning' }), title);
      if (!action || (action.expiresAt !== undefined && action.expiresAt <= now.toISOString())) {
        return await refuse('That button has expired', 'Nothing was done. Run the command again.');
      }
      if (action.singleUse && action.usedAt) {
        return await refuse('Already answered', `This confirmation was already used at ${action.usedAt.slice(0, 19).replace('T', ' ')}Z; nothing more was done.`);
      }
      if (action.kind === 'cancel') {
        if (inv.user.id !== action.createdBy) {
          const reply = finish(traceId, 'denied', { title: 'Not allowed', text: `Only ${action.createdBy} can cancel this.`, severity: 'warning' });
          return await recordClick(inv, traceId, `cancel: ${action.command}`, 'denied', reply, reply.text);
        }
        if (!(await store.useActionGroup(action.group ?? action.id, now.toISOString()))) {
          return await refuse('Already answered', 'Someone answered this confirmation first; nothing more was done.');
        }
        const reply = finish(traceId, 'ok', { title: 'Cancelled', text: `Nothing was changed: \`${action.command}\` was not run.`, visibility: 'ephemeral' });
        return await recordClick(inv, traceId, `cancel: ${action.command}`, 'ok', reply);
      }
      if (!action.singleUse) return await handle({ ...inv, text: action.command, confirmed: action.confirmed });
      // Claim the confirmation before running it, so two quick clicks (or Confirm racing Cancel) run it once.
      const group = action.group ?? action.id;
      const claimedAt = now.toISOString();
      if (!(await store.useActionGroup(group, claimedAt))) {
        return await refuse('Already answered', 'Someone answered this confirmation first; nothing more was done.');
      }
      const reply = await handle({ ...inv, text: action.command, confirmed: action.confirmed });
      // Not done (e.g. the clicker lacks the role): the confirmation stays usable for someone who may.
      if (reply.outcome !== 'ok') await store.releaseActionGroup(group, claimedAt);
      return reply;
    } catch (err) {
      rlog.error({ err, actionId }, 'button click failed');
      return internalError(traceId);
    }
  }

  /** Audits a click that ran no command (cancel, refusals), keyed by its delivery id like any invocation. */
  async function recordClick(inv: Omit<Invocation, 'text' | 'confirmed'>, traceId: string, rawText: string, outcome: Outcome, reply: Reply, error?: string): Promise<Reply> {
    const result = await store.commit({
      expectedSeq: 0,
      events: [],
      audit: {
        at: engine.clock.now().toISOString(),
        platform: inv.platform,
        userId: inv.user.id,
        userName: inv.user.displayName,
        ...(inv.user.runBy ? { runBy: inv.user.runBy } : {}),
        ...(inv.channel ? { channel: inv.channel } : {}),
        rawText,
        command: 'button',
        outcome,
        ...(error ? { error } : {}),
        traceId,
        invocationId: inv.id,
      },
      invocationKey: `${inv.platform}:${inv.id}`,
      reply,
    });
    return !result.ok && result.reason === 'duplicate' ? result.reply : reply;
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

  return { handle, handleAction, suggest, registry };
}

/** The values of a command's cluster options (not the other words they accept, such as "global"). */
function clustersNamed(parsed: Extract<ParsedCommand, { kind: 'command' }>): string[] {
  const args = parsed.args as Record<string, unknown>;
  return describeOptions(parsed.sub).flatMap((o) => {
    const value = args[o.name];
    return o.infraType === 'cluster' && typeof value === 'string' && !o.alsoAccepts?.includes(value) ? [value] : [];
  });
}

const ERROR_CODES: Partial<Record<Outcome, ReplyErrorCode>> = {
  denied: 'infra_denied',
  invalid: 'infra_usage',
  failed: 'infra_internal',
  confirm: 'infra_confirmation_required',
};

function finish(traceId: string, outcome: Outcome, r: HandlerReply, code?: ReplyErrorCode): Reply {
  const failed = outcome === 'denied' || outcome === 'invalid' || outcome === 'failed' || outcome === 'confirm';
  const errorCode = code ?? ERROR_CODES[outcome];
  return {
    severity: 'info',
    visibility: failed ? 'ephemeral' : 'channel',
    ...r,
    outcome,
    traceId,
    time: new Date().toISOString(),
    ...(errorCode ? { error: { code: errorCode, message: r.text ?? r.title } } : {}),
  };
}

function userErrorReply(traceId: string, err: UserError): Reply {
  return finish(traceId, 'invalid', {
    title: err.code === 'infra_not_found' ? 'Not found' : err.code === 'infra_unknown_command' ? 'Unknown command' : 'Cannot do that',
    text: err.message,
    severity: 'warning',
    ...(err.hint ? { hint: err.hint } : {}),
  }, err.code);
}

function internalError(traceId: string): Reply {
  return finish(traceId, 'failed', {
    title: 'Internal error',
    text: `Something went wrong on our side and nothing was changed. Quote ref ${traceId} when reporting it.`,
    severity: 'critical',
  });
}
