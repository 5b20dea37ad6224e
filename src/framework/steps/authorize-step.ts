import { authorize, authorizeListing, type RoleSources } from '../../auth/authorize.js';
import type { ControlState } from '../../engine/control-state.js';
import { UserError } from '../../user-error.js';
import type { Reply } from '../reply.js';
import { finish } from './replies.js';
import type { Parsed, PipelineShared, Run } from './run-context.js';

export interface Authorized {
  roles: RoleSources;
  /** The cluster the command acts on, if it names one (a role on that cluster then suffices). */
  cluster?: string;
  /** The clusters a cluster-scoped user may see in a listing; undefined when all. */
  visible?: readonly string[];
}

/** Step 2: may this user run this command (on this cluster)? A denial is a reply and an audit message. */
export async function authorizeStep(
  shared: PipelineShared,
  run: Run,
  parsed: Parsed,
  state: ControlState,
): Promise<{ ok: Authorized } | { denied: Reply; message: string; cluster?: string }> {
  const { inv } = run;
  // An API key carries its own role and clusters; nothing granted elsewhere widens them.
  const roles: RoleSources = inv.grants ? { grants: inv.grants, fixedAdmins: [] } : shared.roleSources(state);
  let cluster: string | undefined;
  try {
    cluster = await parsed.sub.clusterOf?.(parsed.args, shared.services ? { services: shared.services } : {});
  } catch (err) {
    // Unknown ids and the like: the command then needs the role globally, and the handler will say what is wrong.
    if (!(err instanceof UserError)) run.log.warn({ err }, 'cluster lookup failed; checking the role globally');
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
    run.log.info({ command: parsed.name, needed: parsed.sub.role, cluster }, 'denied');
    const denied = finish(run.traceId, 'denied', { title: 'Not allowed', text: decision.message, severity: 'warning' });
    return { denied, message: decision.message, ...(cluster ? { cluster } : {}) };
  }
  const visible = 'visible' in decision ? decision.visible : undefined;
  return { ok: { roles, ...(cluster ? { cluster } : {}), ...(visible ? { visible } : {}) } };
}
