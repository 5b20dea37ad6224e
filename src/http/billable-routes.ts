import type { ControlFeed, Guard, Reservation, ReserveResult } from '@infrabot/guard';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

const clusterName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'cluster names are lower-case letters, digits and dashes');
const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, '1–200 printable ASCII characters without spaces');
/** `<cluster>:<idempotencyKey>`, as reserve returned it. */
const actionId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}:[\x21-\x7e]{1,200}$/, 'an action id as reserve returned it: <cluster>:<idempotencyKey>');

export const reserveRequestSchema = z
  .object({
    cluster: clusterName,
    service: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, dots, dashes and underscores').default('http'),
    idempotencyKey: idempotencyKey.describe('Your key for this action: a retry with the same key never charges twice'),
    action: z.string().regex(/^[\w.:-]{1,64}$/, 'letters, digits, ".", ":", "_" or "-"').describe('What is billed, e.g. mint-dream'),
    amount: z.number().positive().max(1_000_000_000).optional().describe('Charge; omitted → the configured price of the action'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD').optional(),
    request: z.unknown().optional().describe('The request body; its SHA-256 tells a retry from a different request under the same key'),
    digest: z.string().regex(/^[0-9a-f]{64}$/, 'a hex SHA-256').optional().describe('Or the body digest itself'),
    ttlSeconds: z.number().int().min(1).max(86_400).default(300).describe('How long the amount is held unconfirmed'),
  })
  .strict();

const reservedSchema = z.object({
  status: z.literal('reserved'), actionId: z.string(), token: z.string().describe('Pass it to confirm or cancel'), action: z.string(),
  amount: z.number(), currency: z.string(), digest: z.string(), expiresAt: z.string(),
});
const replayedSchema = z.object({ status: z.literal('replayed'), actionId: z.string(), response: z.unknown(), amount: z.number(), currency: z.string(), digest: z.string() });
const refusedSchema = z.object({
  status: z.literal('refused'), actionId: z.string(),
  reason: z.enum(['budget-exhausted', 'idempotency-conflict', 'in-progress', 'unpriced', 'currency-mismatch', 'unavailable']),
  message: z.string(), retryAfterMs: z.number(), digest: z.string(), traceId: z.string(),
});
const finishRequestSchema = z.object({ actionId, token: z.string().uuid('the token reserve returned'), response: z.unknown().optional() }).strict();
const finishResponseSchema = z.object({ actionId: z.string(), outcome: z.enum(['confirmed', 'already', 'cancelled', 'expired', 'superseded', 'unknown']) });
const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), traceId: z.string() }) });

/** HTTP status of each refusal: what a service in another language branches on. */
const REFUSAL_STATUS = { 'budget-exhausted': 429, 'idempotency-conflict': 422, 'in-progress': 409, unpriced: 422, 'currency-mismatch': 422, unavailable: 503 } as const;
/** And of each finish outcome that is not a success. */
const FINISH_STATUS = { confirmed: 200, already: 200, cancelled: 200, expired: 410, superseded: 409, unknown: 404 } as const;

export interface BillableRoutesDeps {
  feed: ControlFeed;
  hasRedis: boolean;
  /** Resolves true once Redis is connected (waiting briefly, e.g. just after start); false when it is not. */
  redisReady(): Promise<boolean>;
  guardFor(cluster: string, service: string): Promise<Guard>;
  authorize?: (request: FastifyRequest, cluster?: string) => boolean | Promise<boolean>;
  refuse(request: FastifyRequest, code: string, message: string): z.infer<typeof errorSchema>;
}

/**
 * `POST /api/billable/reserve|confirm|cancel`, `GET /api/billable/:actionId`, `GET /api/billable/stats`: the
 * guard's two-phase billable actions for services in other languages (see docs/budgets.md).
 */
export function billableRoutes(app: FastifyInstance, deps: BillableRoutesDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  /** Known cluster, allowed key, Redis present — or the reply that says which is missing. */
  const gate = async (request: FastifyRequest, reply: FastifyReply, cluster: string) => {
    if (deps.authorize && !(await deps.authorize(request, cluster))) return reply.code(403).send(deps.refuse(request, 'infra_forbidden', `This key may not bill on cluster ${cluster}.`));
    const snap = deps.feed.current();
    if (!snap || !Object.hasOwn(snap.clusters, cluster)) return reply.code(404).send(deps.refuse(request, 'infra_not_found', `No cluster named "${cluster}".`));
    if (!deps.hasRedis) return reply.code(503).send(deps.refuse(request, 'infra_no_redis', 'Billable actions need Redis (config redis.url): reservations must be shared by every replica.'));
    // Nothing is reserved or charged without Redis: the caller must not do billable work now.
    if (!(await deps.redisReady())) return reply.code(503).send(deps.refuse(request, 'infra_redis_unavailable', 'Redis is not reachable, so nothing can be reserved or charged; retry shortly.'));
    return undefined;
  };
  const split = (id: string) => {
    const at = id.indexOf(':');
    return { cluster: id.slice(0, at), idempotencyKey: id.slice(at + 1) };
  };

  typed.post('/api/billable/reserve', {
    schema: {
      summary: 'Phase one of a billable action: hold its amount against the budget (or replay the stored response)',
      tags: ['billable'],
      body: reserveRequestSchema,
      response: { 200: replayedSchema, 201: reservedSchema, 409: refusedSchema, 422: refusedSchema, 429: refusedSchema, 403: errorSchema, 404: errorSchema, 503: z.union([refusedSchema, errorSchema]) },
    },
  }, async (request, reply) => {
    const b = request.body;
    const stop = await gate(request, reply, b.cluster);
    if (stop) return stop;
    const guard = await deps.guardFor(b.cluster, b.service);
    const r: ReserveResult = await guard.reserve({
      idempotencyKey: b.idempotencyKey, action: b.action, ttlMs: b.ttlSeconds * 1000,
      ...(b.amount !== undefined ? { amount: b.amount } : {}), ...(b.currency ? { currency: b.currency } : {}),
      ...(b.digest ? { digest: b.digest } : { request: b.request ?? null }),
    });
    // The digest is logged with the key and the trace id, so a refused retry can be traced to its first request.
    request.log.info({ traceId: request.id, cluster: b.cluster, idempotencyKey: b.idempotencyKey, digest: r.digest, action: b.action, status: r.status, ...(r.status === 'refused' ? { reason: r.reason } : {}) }, 'billable reserve');
    if (r.status === 'reserved') {
      const { cluster: _c, idempotencyKey: _k, ...rest } = r;
      return reply.code(201).send(rest);
    }
    if (r.status === 'replayed') return reply.code(200).send(r);
    if (r.retryAfterMs > 0) void reply.header('retry-after', String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))));
    return reply.code(REFUSAL_STATUS[r.reason]).send({ ...r, traceId: request.id });
  });

  for (const op of ['confirm', 'cancel'] as const) {
    typed.post(`/api/billable/${op}`, {
      schema: {
        summary: op === 'confirm' ? 'Phase two: charge the reservation after the response is stored (kept for replays)' : 'Release a reservation whose work failed; nothing is charged',
        tags: ['billable'],
        body: finishRequestSchema,
        response: { 200: finishResponseSchema, 404: z.union([finishResponseSchema, errorSchema]), 409: finishResponseSchema, 410: finishResponseSchema, 403: errorSchema, 503: errorSchema },
      },
    }, async (request, reply) => {
      const { cluster, idempotencyKey } = split(request.body.actionId);
      const stop = await gate(request, reply, cluster);
      if (stop) return stop;
      const guard = await deps.guardFor(cluster, 'http');
      const r = { cluster, idempotencyKey, token: request.body.token } as Reservation;
      const outcome = op === 'confirm' ? await guard.confirm(r, request.body.response ?? null, { traceId: request.id }) : await guard.cancel(r);
      request.log.info({ traceId: request.id, cluster, idempotencyKey, outcome }, `billable ${op}`);
      return reply.code(FINISH_STATUS[outcome]).send({ actionId: request.body.actionId, outcome });
    });
  }

  const statsSchema = z.object({
    cluster: z.string(), pending: z.number(), held: z.number(), reserved: z.number(), confirmed: z.number(), charged: z.number(),
    failed: z.number(), cancelled: z.number(), expired: z.number(), refusedForBudget: z.number(), conflicts: z.number(),
  });
  typed.get('/api/billable/stats', {
    schema: { summary: 'Billable actions of a cluster: pending, confirmed, charged, failed', tags: ['billable'], querystring: z.object({ cluster: clusterName }), response: { 200: statsSchema, 403: errorSchema, 404: errorSchema, 503: errorSchema } },
  }, async (request, reply) => {
    const stop = await gate(request, reply, request.query.cluster);
    if (stop) return stop;
    return { cluster: request.query.cluster, ...(await (await deps.guardFor(request.query.cluster, 'http')).billableStats()) };
  });

  typed.get('/api/billable/:actionId', {
    schema: {
      summary: 'One billable action: its state, amount, digest and (once confirmed) stored response',
      tags: ['billable'],
      params: z.object({ actionId }),
      response: {
        200: z.object({ actionId: z.string(), state: z.enum(['reserved', 'confirmed', 'cancelled', 'expired']), action: z.string(), amount: z.number(), currency: z.string(), digest: z.string(), reservedAt: z.string(), expiresAt: z.string(), finishedAt: z.string().optional(), response: z.unknown().optional() }),
        403: errorSchema, 404: errorSchema, 503: errorSchema,
      },
    },
  }, async (request, reply) => {
    const { cluster, idempotencyKey } = split(request.params.actionId);
    const stop = await gate(request, reply, cluster);
    if (stop) return stop;
    const rec = await (await deps.guardFor(cluster, 'http')).billable(idempotencyKey);
    if (!rec) return reply.code(404).send(deps.refuse(request, 'infra_not_found', `No billable action ${request.params.actionId} (unknown, or its replay window has passed).`));
    return rec;
  });
}
