import { createGuard, type ControlFeed, type ControlSnapshot, type Guard } from '@infrabot/guard';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { billableRoutes } from './billable-routes.js';

export interface GuardRoutesOptions {
  /** Committed control snapshots (the app's `control` channel). */
  feed: ControlFeed;
  /** Redis for shared rate limits and traffic reports (config `redis.url`); without it limits count in this process. */
  redis?: { url: string; prefix: string };
  /**
   * May this request see the stream / check this cluster? (The server's API-key scopes.) Default: yes — the
   * server registers this plugin behind its authentication.
   */
  authorize?: (request: FastifyRequest, cluster?: string) => boolean | Promise<boolean>;
  /**
   * Asked when a stream opens: the clusters its caller may see (undefined: all; the kill-switch is always
   * shown) and a re-check of its credentials, run before every change and every keep-alive, so a revoked or
   * expired key's stream ends within one keep-alive interval and never receives another change.
   */
  streamAccess?: (request: FastifyRequest) => { clusters?: readonly string[]; stillValid: () => Promise<boolean> };
  /** Interval of SSE keep-alive comments (default 15 s; guards treat 45 s of silence as a dead connection). */
  heartbeatMs?: number;
}

/** Services checked over HTTP get a guard each, bounded so arbitrary service names cannot grow memory. */
const MAX_HTTP_GUARDS = 256;

const clusterName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'cluster names are lower-case letters, digits and dashes');

export const checkRequestSchema = z
  .object({
    cluster: clusterName.describe('The cluster the calling service belongs to'),
    service: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, dots, dashes and underscores').default('http').describe('Calling service, for live traffic'),
    key: z.string().min(1).max(200).optional().describe('Tenant key for per-tenant rate limits'),
    cost: z.number().int().min(1).max(1000).default(1).describe('Requests this check counts as'),
  })
  .strict();

export const checkResponseSchema = z.union([
  z.object({
    allowed: z.literal(true),
    degraded: z.enum(['stale', 'rate-limit-unavailable']).optional(),
    remaining: z.tuple([z.number(), z.number(), z.number()]).optional().describe('Left in the minute, hour and day windows (-1 = no limit)'),
    version: z.number().int().describe('Snapshot version decided on'),
  }),
  z.object({
    allowed: z.literal(false),
    reason: z.enum(['killswitch', 'cluster-disabled', 'breaker-open', 'rate-limited', 'unavailable']),
    status: z.union([z.literal(503), z.literal(429)]).describe('What the service should answer its caller'),
    retryAfterSeconds: z.number().int().min(1),
    message: z.string(),
    version: z.number().int(),
  }),
]);

export const reportRequestSchema = z
  .object({
    cluster: clusterName,
    service: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, dots, dashes and underscores').default('http'),
    finished: z.number().int().min(0).max(1_000_000).describe('Requests the service finished since its last report'),
    errors: z.number().int().min(0).max(1_000_000).describe('Of those, how many failed (5xx)'),
    latencyMsTotal: z.number().min(0).default(0).describe('Sum of their latencies in milliseconds'),
  })
  .strict()
  .refine((r) => r.errors <= r.finished, { message: 'errors cannot exceed finished', path: ['errors'] });

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), traceId: z.string() }) });

const sse = (event: string, snap: ControlSnapshot) => `event: ${event}\nid: ${snap.version}\ndata: ${JSON.stringify(snap)}\n\n`;

/**
 * The guard-facing routes: `GET /api/control/stream` (server-sent events: the snapshot, then every change;
 * a reconnect with Last-Event-ID gets only what changed since), `POST /api/control/check` (the guard
 * decision for services that cannot embed the Node guard) and `POST /api/control/report` (their outcomes).
 * Register it behind the API's authentication.
 */
export const guardRoutes: FastifyPluginAsync<GuardRoutesOptions> = async (app, opts) => {
  // Encapsulated: these routes validate with zod whatever the parent server does.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const redis = opts.redis ? new Redis(opts.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000 }) : undefined;
  redis?.on('error', (err: Error) => app.log.debug({ err: err.message }, 'guard routes: redis unavailable'));
  const guards = new Map<string, Promise<Guard>>();
  const open = new Set<() => void>();

  const guardFor = (cluster: string, service: string): Promise<Guard> => {
    const id = `${cluster}\u0000${service}`;
    let g = guards.get(id);
    if (!g) {
      if (guards.size >= MAX_HTTP_GUARDS) {
        // Forget the oldest: it only costs a new guard (and an interval of traffic counts) if it comes back.
        const [oldest, first] = guards.entries().next().value!;
        guards.delete(oldest);
        void first.then((x) => x.close());
      }
      g = createGuard({
        cluster, service, source: { feed: opts.feed }, readyTimeoutMs: 0,
        ...(redis ? { redis, prefix: opts.redis!.prefix } : {}),
      });
      guards.set(id, g);
    }
    return g;
  };
  // The request's id is the trace id the server returns in X-Trace-Id and logs: one id to quote.
  const refuse = (request: FastifyRequest, code: string, message: string) => ({ error: { code, message, traceId: request.id } });

  typed.post('/api/control/check', {
    schema: {
      summary: 'Guard decision for a service that does not embed the Node guard',
      tags: ['guard'],
      body: checkRequestSchema,
      response: { 200: checkResponseSchema, 403: errorSchema, 404: errorSchema, 503: errorSchema },
    },
  }, async (request, reply) => {
    const { cluster, service, key, cost } = request.body;
    if (opts.authorize && !(await opts.authorize(request, cluster))) return reply.code(403).send(refuse(request, 'infra_forbidden', `This key may not check cluster ${cluster}.`));
    const snap = opts.feed.current();
    if (!snap) return reply.code(503).send(refuse(request, 'infra_not_ready', 'No control state yet; try again in a moment.'));
    if (!Object.hasOwn(snap.clusters, cluster)) {
      return reply.code(404).send(refuse(request, 'infra_not_found', `No cluster named "${cluster}". Known clusters: ${Object.keys(snap.clusters).sort().join(', ')}`));
    }
    const guard = await guardFor(cluster, service);
    const d = await guard.check({ cost, ...(key !== undefined ? { key } : {}) });
    return { ...d, version: guard.snapshot()?.version ?? snap.version };
  });

  typed.post('/api/control/report', {
    schema: {
      summary: 'Outcomes of requests a service allowed (for live traffic and automatic breaker trips)',
      tags: ['guard'],
      body: reportRequestSchema,
      response: { 202: z.object({ accepted: z.literal(true) }), 403: errorSchema, 404: errorSchema, 503: errorSchema },
    },
  }, async (request, reply) => {
    const { cluster, service, finished, errors, latencyMsTotal } = request.body;
    if (opts.authorize && !(await opts.authorize(request, cluster))) return reply.code(403).send(refuse(request, 'infra_forbidden', `This key may not report for cluster ${cluster}.`));
    const snap = opts.feed.current();
    if (!snap || !Object.hasOwn(snap.clusters, cluster)) return reply.code(404).send(refuse(request, 'infra_not_found', `No cluster named "${cluster}".`));
    if (!redis) return reply.code(503).send(refuse(request, 'infra_no_redis', 'Outcome reports need Redis (config redis.url); without it there is no live traffic.'));
    (await guardFor(cluster, service)).reportMany({ finished, errors, latencyMsTotal });
    return reply.code(202).send({ accepted: true });
  });

  typed.get('/api/control/stream', {
    schema: {
      summary: 'Server-sent events: the control snapshot, then every change (reconnect with Last-Event-ID)',
      tags: ['guard'],
      headers: z.object({ 'last-event-id': z.string().regex(/^\d{1,15}$/, 'a snapshot version').optional() }).passthrough(),
      response: {
        200: {
          description: 'An endless event stream: `event: snapshot` (or `change`), `id: <version>`, `data: <control snapshot JSON>`; a comment every 15 s',
          content: { 'text/event-stream': { schema: z.string() } },
        },
        // The API-key check in front of these routes (createApiKeyCheck) answers 401.
        401: errorSchema,
        403: errorSchema,
      },
    },
  }, async (request, reply) => {
    if (opts.authorize && !(await opts.authorize(request))) return reply.code(403).send(refuse(request, 'infra_forbidden', 'This key may not read the control stream.'));
    const since = request.headers['last-event-id'] === undefined ? undefined : Number(request.headers['last-event-id']);
    reply.hijack();
    const res = reply.raw;
    // Hijacked: headers the server set earlier (trace id, security headers) are written here or not at all.
    const earlier = Object.fromEntries(Object.entries(reply.getHeaders()).filter((e): e is [string, string | number | string[]] => e[1] !== undefined));
    res.writeHead(200, { ...earlier, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\n\n');
    const access = opts.streamAccess?.(request);
    const seen = access?.clusters;
    const view = (snap: ControlSnapshot): ControlSnapshot =>
      seen ? { ...snap, clusters: Object.fromEntries(Object.entries(snap.clusters).filter(([name]) => seen.includes(name))) } : snap;
    let sent = since ?? -1;
    let closed = false;
    const send = (snap: ControlSnapshot, event: 'snapshot' | 'change') => {
      if (snap.version <= sent && event === 'change') return;
      sent = snap.version;
      res.write(sse(event, view(snap)));
    };
    // Writes wait for the credentials re-check, one at a time, so changes keep their order.
    let queue = Promise.resolve();
    const whileValid = (write: () => void) => {
      queue = queue.then(async () => {
        const valid = !access || (await access.stillValid().catch((err: unknown) => {
          request.log.warn({ err, traceId: request.id }, 'control stream: re-checking the key failed; ending the stream');
          return false;
        }));
        if (closed) return;
        if (valid) return write();
        request.log.info({ traceId: request.id }, 'control stream ended: its key was revoked or expired');
        res.write(': key revoked or expired\n\n');
        close();
      });
    };
    const cur = opts.feed.current();
    // A version ahead of ours belongs to another history (a replaced database): start over with a snapshot.
    if (cur && (since === undefined || since > cur.version)) send(cur, 'snapshot');
    else if (cur && since !== undefined && since < cur.version) send(cur, 'change');
    const unsubscribe = opts.feed.subscribe((snap) => whileValid(() => send(snap, 'change')));
    const heartbeat = setInterval(() => whileValid(() => res.write(': ping\n\n')), opts.heartbeatMs ?? 15_000);
    const close = () => {
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(close);
      res.end();
    };
    open.add(close);
    request.raw.once('close', close);
  });

  const redisReady = async () => {
    if (!redis) return false;
    if (redis.status !== 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([once(redis, 'ready'), new Promise((r) => (timer = setTimeout(r, 1_000)))]).catch(() => undefined);
      clearTimeout(timer);
    }
    return redis.status === 'ready';
  };
  billableRoutes(app, { feed: opts.feed, hasRedis: Boolean(redis), redisReady, guardFor, refuse, ...(opts.authorize ? { authorize: opts.authorize } : {}) });

  // Streams never go idle: end them before the server waits for its connections to drain.
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });
  app.addHook('onClose', async () => {
    await Promise.allSettled([...guards.values()].map((g) => g.then((x) => x.close())));
    if (redis) {
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    }
  });
};
