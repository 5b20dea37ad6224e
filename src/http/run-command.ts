import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Invocation } from '../framework/invocation.js';
import type { Pipeline } from '../framework/pipeline.js';
import type { Reply } from '../framework/reply.js';
import type { ApiKeyStore } from '../store/api-key-store.js';
import { shortId } from '../util/ids.js';
import { sendError, STATUS_OF } from './api-error.js';
import { principalOf, type ApiPrincipal } from './api-principal.js';

export interface RunDeps {
  pipeline: Pipeline;
  apiKeys: ApiKeyStore;
  now: () => Date;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/** `cluster disable api --reason "bad deploy"`: what the audit log shows for a structured call. */
export function commandLine(name: string, args: Record<string, unknown>, positional: readonly string[]): string {
  const quote = (v: unknown) => {
    const s = String(v);
    return /^[\w.:@,/-]+$/.test(s) ? s : JSON.stringify(s);
  };
  const words = [name, ...positional.filter((p) => args[p] !== undefined).map((p) => quote(args[p]))];
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined || positional.includes(k)) continue;
    const flag = '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    words.push(v === true ? flag : `${flag} ${quote(v)}`);
  }
  return words.join(' ');
}

/**
 * Runs one command for an API request through the same pipeline as chat (platform `http`, the key as the
 * user, its role and clusters as the only grants) and answers with its data or its error. With an
 * `Idempotency-Key` the invocation id is derived from the key, so a retry is answered from the stored reply
 * by the pipeline's own duplicate check, and a different request under the same key is refused with 422.
 */
export async function runCommand(
  deps: RunDeps,
  req: FastifyRequest,
  res: FastifyReply,
  command: { name: string; args: Record<string, unknown>; positional: readonly string[]; confirmed?: boolean },
) {
  const principal = principalOf(req);
  let id = shortId(16);
  const idemKey = req.method === 'POST' ? req.headers['idempotency-key'] : undefined;
  if (idemKey !== undefined) {
    if (typeof idemKey !== 'string' || !IDEMPOTENCY_KEY.test(idemKey)) {
      return sendError(req, res, 400, 'infra_usage', 'Idempotency-Key must be 1 to 128 visible ASCII characters.');
    }
    const hash = createHash('sha256').update(`${req.method} ${req.url}\n${JSON.stringify(req.body ?? null)}`).digest('hex');
    const claim = await deps.apiKeys.claimIdempotencyKey(principal.keyId, idemKey, hash, deps.now().toISOString());
    if (claim === 'different') {
      return sendError(req, res, 422, 'infra_idempotency_mismatch', `Idempotency-Key "${idemKey}" was used for a different request; use a new key for a new request.`);
    }
    if (claim === 'same') res.header('idempotent-replayed', 'true');
    id = `idem:${principal.keyId}:${idemKey}`;
  }
  const invocation: Invocation = {
    id,
    platform: 'http',
    user: principal.user,
    channel: 'http',
    text: commandLine(command.name, command.args, command.positional),
    command: { name: command.name, args: command.args },
    traceId: req.id,
    grants: principal.grants,
    ...(command.confirmed ? { confirmed: true } : {}),
  };
  return answer(res, await deps.pipeline.handle(invocation), principal);
}

function answer(res: FastifyReply, reply: Reply, principal: ApiPrincipal) {
  if (!reply.error) return res.code(200).send({ data: reply.data ?? null, traceId: reply.traceId });
  const { code, message } = reply.error;
  const status = STATUS_OF[code] ?? 500;
  return res.code(status).send({ error: { code, message: httpWording(code, message, principal), traceId: reply.traceId } });
}

/** The chat wording, told for an API caller: how to confirm, and that a key's scope is fixed (no role grant). */
function httpWording(code: string, message: string, p: ApiPrincipal): string {
  if (code === 'infra_confirmation_required') return `${message.replace(/\n/g, ' ')} Send the request again with "confirm": true to go ahead.`;
  if (code !== 'infra_denied') return message;
  const need = message.replace(/;.*$/s, '');
  const scope = p.clusters ? `on ${p.clusters.join(', ')} only` : 'globally';
  return `${need}; this API key is ${p.role} ${scope}. An admin can create a key with that scope (\`apikey create\`).`;
}
