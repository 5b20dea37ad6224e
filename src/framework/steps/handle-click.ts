import type { Logger } from 'pino';
import type { Engine } from '../../engine/engine.js';
import type { Store } from '../../store/store.js';
import { shortId } from '../../util/ids.js';
import type { Invocation } from '../invocation.js';
import type { Outcome, Reply } from '../reply.js';
import { finish, internalError } from './replies.js';

type Click = Omit<Invocation, 'text' | 'confirmed'>;

/**
 * A click. Runs the stored command as the clicker (authorized and audited like typed text, through `handle`),
 * or cancels a confirmation. Unknown, expired and already-used buttons are refused, and those refusals are audited too.
 */
export async function handleClick(
  deps: { store: Store; engine: Engine; log: Logger; handle: (inv: Invocation) => Promise<Reply> },
  actionId: string,
  inv: Click,
): Promise<Reply> {
  const { store, engine } = deps;
  const traceId = shortId();
  const rlog = deps.log.child({ traceId, platform: inv.platform, user: inv.user.id });
  try {
    const action = await store.getAction(actionId);
    const now = engine.clock.now();
    const refuse = (title: string, text: string) =>
      recordClick(deps, inv, traceId, `[button ${actionId}]`, 'invalid', finish(traceId, 'invalid', { title, text, severity: 'warning' }), title);
    if (!action || (action.expiresAt !== undefined && action.expiresAt <= now.toISOString())) {
      return await refuse('That button has expired', 'Nothing was done. Run the command again.');
    }
    if (action.singleUse && action.usedAt) {
      return await refuse('Already answered', `This confirmation was already used at ${action.usedAt.slice(0, 19).replace('T', ' ')}Z; nothing more was done.`);
    }
    if (action.kind === 'cancel') {
      if (inv.user.id !== action.createdBy) {
        const reply = finish(traceId, 'denied', { title: 'Not allowed', text: `Only ${action.createdBy} can cancel this.`, severity: 'warning' });
        return await recordClick(deps, inv, traceId, `cancel: ${action.command}`, 'denied', reply, reply.text);
      }
      if (!(await store.useActionGroup(action.group ?? action.id, now.toISOString()))) {
        return await refuse('Already answered', 'Someone answered this confirmation first; nothing more was done.');
      }
      const reply = finish(traceId, 'ok', { title: 'Cancelled', text: `Nothing was changed: \`${action.command}\` was not run.`, visibility: 'ephemeral' });
      return await recordClick(deps, inv, traceId, `cancel: ${action.command}`, 'ok', reply);
    }
    if (!action.singleUse) return await deps.handle({ ...inv, text: action.command, confirmed: action.confirmed });
    // Claim the confirmation before running it, so two quick clicks (or Confirm racing Cancel) run it once.
    const group = action.group ?? action.id;
    const claimedAt = now.toISOString();
    if (!(await store.useActionGroup(group, claimedAt))) {
      return await refuse('Already answered', 'Someone answered this confirmation first; nothing more was done.');
    }
    const reply = await deps.handle({ ...inv, text: action.command, confirmed: action.confirmed });
    // Not done (e.g. the clicker lacks the role): the confirmation stays usable for someone who may.
    if (reply.outcome !== 'ok') await store.releaseActionGroup(group, claimedAt);
    return reply;
  } catch (err) {
    rlog.error({ err, actionId }, 'button click failed');
    return internalError(traceId);
  }
}

/** Audits a click that ran no command (cancel, refusals), keyed by its delivery id like any invocation. */
async function recordClick(deps: { store: Store; engine: Engine }, inv: Click, traceId: string, rawText: string, outcome: Outcome, reply: Reply, error?: string): Promise<Reply> {
  const result = await deps.store.commit({
    expectedSeq: 0,
    events: [],
    audit: {
      at: deps.engine.clock.now().toISOString(),
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
