import { roleRank, type Role, type RoleGrant } from './roles.js';

export interface Principal {
  id: string;
  groups?: readonly string[];
}

export interface RoleSources {
  grants: readonly RoleGrant[];
  /** Admins from the config file; they cannot be revoked from chat. */
  bootstrapAdmins: readonly string[];
}

export type AuthDecision = { ok: true; role?: Role } | { ok: false; message: string; have?: Role };

/** The strongest role a principal holds where it counts: globally, or on the given cluster. Default deny. */
export function effectiveRole(p: Principal, sources: RoleSources, cluster?: string): Role | undefined {
  const subjects = new Set([p.id, ...(p.groups ?? [])]);
  if (sources.bootstrapAdmins.some((a) => subjects.has(a))) return 'admin';
  let best: Role | undefined;
  for (const g of sources.grants) {
    if (!subjects.has(g.subject)) continue;
    if (g.cluster !== undefined && g.cluster !== cluster) continue;
    if (best === undefined || roleRank(g.role) > roleRank(best)) best = g.role;
  }
  return best;
}

export function authorize(p: Principal, needed: Role | 'anyone', sources: RoleSources, cluster?: string): AuthDecision {
  const have = effectiveRole(p, sources, cluster);
  if (needed === 'anyone') return have ? { ok: true, role: have } : { ok: true };
  if (have !== undefined && roleRank(have) >= roleRank(needed)) return { ok: true, role: have };
  const where = cluster ? ` on cluster "${cluster}"` : '';
  const now = have ? `you are ${have}${where}` : `you have no role${where}`;
  return {
    ok: false,
    message: `This needs the ${needed} role${where}; ${now}. Ask an admin: \`role grant ${p.id} ${needed}${cluster ? ` --cluster ${cluster}` : ''}\``,
    ...(have ? { have } : {}),
  };
}

/** Whether a principal holds any role at all, globally or on one of the clusters: who may see cluster names. */
export function holdsAnyRole(p: Principal, sources: RoleSources, clusters: readonly string[]): boolean {
  const scopes = new Set<string | undefined>([undefined, ...clusters, ...sources.grants.map((g) => g.cluster)]);
  return [...scopes].some((cluster) => effectiveRole(p, sources, cluster) !== undefined);
}
