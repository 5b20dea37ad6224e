export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const roleRank = (r: Role) => ROLES.indexOf(r);

/** A role held by a user or group, globally or on one cluster. */
export interface RoleGrant {
  subject: string;
  role: Role;
  cluster?: string;
  grantedBy?: string;
  grantedAt?: string;
}
