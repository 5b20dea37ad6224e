import { roleRank, type Role, type RoleGrant } from './roles.js';

export interface Principal {
  id: string;
  groups?: readonly string[];
}

/** An admin that no chat command granted and none can revoke: from the config file, or the local OS user. */
export interface FixedAdmin {
  subject: string;
  /** 'system': the bot itself, which runs the reverts of time-limited actions on behalf of their authors. */
  source: 'config' | 'local' | 'system';
}

export interface RoleSources {
  grants: readonly RoleGrant[];
  /** Admins from the config file and the local OS user of a console/CLI; they cannot be revoked from chat. */
  fixedAdmins: readonly FixedAdmin[];
}

/** The one wording for a fixed admin, used by `role list`, `role revoke` and `whoami` alike. */
export function describeFixedAdmin(a: FixedAdmin): string {
  return a.source === 'config'
    ? 'admin from the config file (`admins:`); change it there'
    : a.source === 'system'
      ? 'the bot itself: automatic actions (reverts of `--for`/`--until` on behalf of their authors, breaker trips from guards\' error rates); no user can act as it'
      : 'admin as the local OS user running this console/CLI (not a stored grant; applies only to this process)';
}

export type AuthDecision = { ok: true; role?: Role } | { ok: false; message: string; have?: Role };

/** The fixed admin entry a principal matches, if any. */
export function fixedAdminOf(p: Principal, sources: RoleSources): FixedAdmin | undefined {
  const subjects = new Set([p.id, ...(p.groups ?? [])]);
  return sources.fixedAdmins.find((a) => subjects.has(a.subject));
}

/** The strongest role a principal holds where it counts: globally, or on the given cluster. Default deny. */
export function effectiveRole(p: Principal, sources: RoleSources, cluster?: string): Role | undefined {
  if (fixedAdminOf(p, sources)) return 'admin';
  const subjects = new Set([p.id, ...(p.groups ?? [])]);
  let best: Role | undefined;
  for (const g of sources.grants) {
    if (!subjects.has(g.subject)) continue;
    if (g.cluster !== undefined && g.cluster !== cluster) continue;
    if (best === undefined || roleRank(g.role) > roleRank(best)) best = g.role;
  }
  return best;
}

/** What a principal holds, in words: "viewer globally", "operator on api, viewer on web", "no role". */
function describeHeld(p: Principal, sources: RoleSources): string {
  const global = effectiveRole(p, sources);
  const subjects = new Set([p.id, ...(p.groups ?? [])]);
  const clusters = [...new Set(sources.grants.filter((g) => g.cluster !== undefined && subjects.has(g.subject)).map((g) => g.cluster!))].sort();
  const scoped = clusters
    .map((c) => [c, effectiveRole(p, sources, c)] as const)
    .filter(([, r]) => r !== undefined && (global === undefined || roleRank(r) > roleRank(global)))
    .map(([c, r]) => `${r} on ${c}`);
  const parts = [...(global ? [`${global} globally`] : []), ...scoped];
  return parts.length ? `you are ${parts.join(', ')}${global ? '' : ' only'}` : 'you have no role';
}

export function authorize(p: Principal, needed: Role | 'anyone', sources: RoleSources, cluster?: string): AuthDecision {
  const have = effectiveRole(p, sources, cluster);
  if (needed === 'anyone') return have ? { ok: true, role: have } : { ok: true };
  if (have !== undefined && roleRank(have) >= roleRank(needed)) return { ok: true, role: have };
  const where = cluster ? ` on cluster "${cluster}" (or globally)` : ' globally';
  return {
    ok: false,
    message: `This needs the ${needed} role${where}; ${describeHeld(p, sources)}. Ask an admin: \`role grant ${p.id} ${needed}${cluster ? ` --cluster ${cluster}` : ''}\``,
    ...(have ? { have } : {}),
  };
}

/**
 * Authorization of an unscoped read that lists rows of many clusters (status, alert list…): a principal with
 * the role globally sees everything (`visible` undefined); one with it on some clusters sees those clusters
 * only, instead of being denied; one with it nowhere is denied with the usual message.
 */
export function authorizeListing(
  p: Principal,
  needed: Role,
  sources: RoleSources,
  clusters: readonly string[],
): { ok: true; visible?: readonly string[] } | { ok: false; message: string } {
  const global = authorize(p, needed, sources);
  if (global.ok) return { ok: true };
  const visible = clusters.filter((c) => authorize(p, needed, sources, c).ok);
  if (visible.length) return { ok: true, visible };
  return { ok: false, message: global.message.replace(' globally;', ' globally or on at least one cluster;') };
}

/** Whether a principal holds any role at all, globally or on one of the clusters: who may see cluster names. */
export function holdsAnyRole(p: Principal, sources: RoleSources, clusters: readonly string[]): boolean {
  const scopes = new Set<string | undefined>([undefined, ...clusters, ...sources.grants.map((g) => g.cluster)]);
  return [...scopes].some((cluster) => effectiveRole(p, sources, cluster) !== undefined);
}
