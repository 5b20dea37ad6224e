import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parseApiKeyToken, secretMatches } from '../auth/api-key-secret.js';
import type { Clock } from '../engine/engine.js';
import type { ApiKey, ApiKeyStore } from '../store/api-key-store.js';
import { sendError } from './api-error.js';
import { createKeyRateLimiter } from './key-rate-limiter.js';
import type { ApiPrincipal } from './api-principal.js';

/** Compared against when the key id is unknown, so an unknown id costs the same time as a wrong secret. */
const DUMMY_HASH = '0'.repeat(64);

/**
 * The `onRequest` hook of every API route: `Authorization: Bearer <key>` checked before the body is read.
 * Unknown, malformed, revoked and expired keys all get the same 401 (the log says which). The key is looked
 * up on every request (no cache), so a revocation on any replica applies at once.
 */
export function createApiKeyCheck(deps: { apiKeys: ApiKeyStore; clock: Clock; log: Logger; processKey?: string }) {
  const processPrincipal = deps.processKey ? processKeyPrincipal() : undefined;
  return async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m && processPrincipal && sameText(m[1]!, deps.processKey!)) {
      req.principal = processPrincipal;
      return;
    }
    const token = m ? parseApiKeyToken(m[1]!) : undefined;
    const key = token ? await deps.apiKeys.get(token.id) : undefined;
    const matches = secretMatches(token?.secret ?? '', key?.secretHash ?? DUMMY_HASH) && key !== undefined;
    const problem = !header ? 'no Authorization header' : !token ? 'not a Bearer API key' : !matches ? 'unknown key' : keyProblem(key, deps.clock);
    if (problem || !key) {
      req.log.info({ traceId: req.id, problem, keyId: token?.id }, 'API request refused: %s', problem);
      reply.header('www-authenticate', 'Bearer realm="infrabot"');
      return sendError(req, reply, 401, 'infra_unauthorized', header ? 'The API key is unknown, revoked or expired.' : 'Send an API key as `Authorization: Bearer <key>` (create one with `apikey create`).');
    }
    const subject = `apikey:${key.id}`;
    const principal: ApiPrincipal = {
      user: { id: subject, displayName: `apikey ${key.name}` },
      keyId: key.id,
      role: key.role,
      ...(key.clusters ? { clusters: key.clusters } : {}),
      grants: key.clusters ? key.clusters.map((cluster) => ({ subject, role: key.role, cluster })) : [{ subject, role: key.role }],
    };
    req.principal = principal;
  };
}

/** Why a stored key no longer authenticates anything, if it does not. */
function keyProblem(key: ApiKey | undefined, clock: Clock): string | undefined {
  if (!key) return 'unknown key';
  if (key.revokedAt) return 'revoked key';
  return key.expiresAt && key.expiresAt <= clock.now().toISOString() ? 'expired key' : undefined;
}

/**
 * Whether the key a request authenticated with still holds, for what outlives the request (the control
 * stream): a revoked, expired or deleted key no longer does; the process's own key always does.
 */
export function createKeyRecheck(deps: { apiKeys: ApiKeyStore; clock: Clock }) {
  return async (principal: ApiPrincipal): Promise<boolean> =>
    principal.keyId === PROCESS_KEY_ID || keyProblem(await deps.apiKeys.get(principal.keyId), deps.clock) === undefined;
}

/** Stored key ids are 12 characters, so this one is never a stored key's. */
const PROCESS_KEY_ID = 'process';

/**
 * The key this process hands its own in-process clients (the simulated fleet's guards reading the control
 * stream): never stored, gone with the process, and only a viewer, so it can read but never change anything.
 */
function processKeyPrincipal(): ApiPrincipal {
  const subject = 'local:infrabot-process';
  return { user: { id: subject, displayName: 'this bot process' }, keyId: PROCESS_KEY_ID, role: 'viewer', grants: [{ subject, role: 'viewer' }] };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The per-key request limit of the command routes (an `onRequest` hook after the key check): over it, 429
 * with Retry-After. The guard routes are not under it: a service checks on every request it serves.
 */
export function createKeyRequestLimit(perMinute: number) {
  const limiter = createKeyRateLimiter(perMinute);
  return async function limitRequests(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const p = req.principal;
    if (!p) return;
    const wait = limiter.take(p.keyId);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return sendError(req, reply, 429, 'infra_rate_limited', `Too many requests with ${p.user.displayName}: at most ${perMinute} a minute. Retry in ${wait}s.`);
    }
  };
}
