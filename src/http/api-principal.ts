import type { FastifyRequest } from 'fastify';
import type { Role, RoleGrant } from '../auth/roles.js';
import type { InvokingUser } from '../framework/invocation.js';

/**
 * Who an authenticated API request acts for: the key as a user (`apikey:<id>`) and the role and clusters it
 * was created with. `grants` is what an Invocation carries so the pipeline authorizes exactly that scope.
 */
export interface ApiPrincipal {
  user: InvokingUser;
  keyId: string;
  role: Role;
  /** Undefined: every cluster and global commands. */
  clusters?: readonly string[];
  grants: readonly RoleGrant[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the API-key check in `onRequest` on every route registered behind it. */
    principal?: ApiPrincipal;
  }
}

/**
 * The principal of a request, for route plugins registered behind the API-key check (see createHttpServer).
 * Throws when the route is not behind it: a programming error, answered as a 500 without details.
 */
export function principalOf(req: FastifyRequest): ApiPrincipal {
  if (!req.principal) throw new Error(`route ${req.routeOptions.url ?? req.url} is not registered behind the API-key check`);
  return req.principal;
}

/**
 * Whether the request's key covers a cluster: a key for every cluster covers all, a scoped key only its own.
 * Without a cluster (the control stream, which carries no users, roles or audit data): any valid key.
 * Shaped as the guard routes' `authorize` option.
 */
export function keyCovers(req: FastifyRequest, cluster?: string): boolean {
  const p = principalOf(req);
  return cluster === undefined || p.clusters === undefined || p.clusters.includes(cluster);
}
