import type { Engine } from '../../engine/engine.js';
import type { Store } from '../../store/store.js';
import { shortId } from '../../util/ids.js';
import type { Invocation } from '../invocation.js';
import type { ReplyButton } from '../reply.js';

/** How long a Confirm button stays valid: long enough to read, short enough that a stale one is refused. */
const CONFIRMATION_TTL_MS = 15 * 60_000;

/** A button that runs `command` as whoever clicks it; the action is stored so any replica can run it. */
export async function makeButton(
  deps: { store: Store; engine: Engine },
  inv: Pick<Invocation, 'user'>,
  label: string,
  command: string,
  opts: { style?: 'primary' | 'danger'; confirmed?: boolean },
): Promise<ReplyButton> {
  const id = shortId(12);
  await deps.store.saveAction({ id, command, confirmed: opts.confirmed ?? false, createdBy: inv.user.id, createdAt: deps.engine.clock.now().toISOString() });
  return { label, actionId: id, ...(opts.style ? { style: opts.style } : {}) };
}

/** Confirm and Cancel of one dangerous command: single-use together, and only for a short while. */
export async function confirmationButtons(deps: { store: Store; engine: Engine }, inv: Pick<Invocation, 'user'>, command: string): Promise<[ReplyButton, ReplyButton]> {
  const now = deps.engine.clock.now();
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
  await deps.store.saveAction(confirm);
  await deps.store.saveAction(cancel);
  return [
    { label: 'Confirm', style: 'danger', actionId: confirm.id },
    { label: 'Cancel', actionId: cancel.id },
  ];
}
