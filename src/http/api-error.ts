import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ReplyErrorCode } from '../framework/reply.js';

/** Codes only the HTTP layer produces, besides the command codes every reply may carry. */
export type HttpErrorCode =
  | ReplyErrorCode
  | 'infra_unauthorized'
  | 'infra_rate_limited'
  | 'infra_idempotency_mismatch'
  | 'infra_body_too_large'
  | 'infra_unsupported_media_type';

/** The one error body of the API: a stable code, a message a person can act on, and the trace id to quote. */
export const errorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string(), traceId: z.string() }) })
  .describe('Error: `code` is stable for scripts, `message` is for people, `traceId` finds the audit record and logs');

/** HTTP status of each command error code. */
export const STATUS_OF: Record<ReplyErrorCode, number> = {
  infra_usage: 400,
  infra_unknown_command: 400,
  infra_denied: 403,
  infra_not_found: 404,
  infra_conflict: 409,
  infra_invalid_state: 409,
  infra_confirmation_required: 428,
  infra_internal: 500,
  infra_busy: 503,
  // The command ran and what it checked failed (no route runs such a command yet): the check's failure, not ours.
  infra_check_failed: 502,
};

export function sendError(req: FastifyRequest, reply: FastifyReply, status: number, code: HttpErrorCode, message: string) {
  return reply.code(status).send({ error: { code, message, traceId: req.id } });
}
