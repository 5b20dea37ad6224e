import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.js';
import { shortId } from '../util/ids.js';
import { errorBody, sendError } from './api-error.js';
import { answerClientError } from './answer-client-error.js';
import { createApiKeyCheck, createKeyRecheck, createKeyRequestLimit } from './authenticate-api-key.js';
import { controlRoutes } from './control-routes.js';
import { keyCovers, principalOf } from './api-principal.js';
import { guardRoutes } from './guard-routes.js';
import { alertReceiverRoutes } from './alert-receiver-routes.js';
import { metricsRoutes } from './metrics-routes.js';

const TRACE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const DOCS_PREFIX = '/docs';

export interface HttpServerOptions {
  app: App;
  /** Defaults to the app's config (`http.bodyLimit`, `http.rateLimit`). */
  bodyLimit?: number;
  perMinute?: number;
  /** A viewer key for this process's own clients (the simulated fleet's guards); see startHttpApi. */
  processKey?: string;
}

/**
 * The HTTP control API: plugins (OpenAPI from the zod schemas, docs page), then the public routes (health,
 * readiness, the OpenAPI document), then every API route behind the API-key check, with one error handler
 * that answers `{error: {code, message, traceId}}` and never shows a 5xx's details. Not listening yet:
 * `listen()` it, or `inject()` in tests.
 */
export async function createHttpServer(opts: HttpServerOptions): Promise<FastifyInstance> {
  const { app } = opts;
  const apiKeys = app.apiKeys;
  if (!apiKeys) throw new Error('the HTTP API needs the SQLite store (API keys)');
  const bodyLimit = opts.bodyLimit ?? app.config.http.bodyLimit;
  const server = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's type the default one plugins expect.
    loggerInstance: app.log.child({ component: 'http' }) as FastifyBaseLogger,
    // Requests are not logged one by one (a busy API would drown the log); failures are, with their trace id.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'traceId' }),
    bodyLimit,
    // A caller's own trace id (X-Trace-Id) is kept when it is a sane token, so it is the one in our logs and audit.
    genReqId: (req) => {
      const given = req.headers['x-trace-id'];
      return typeof given === 'string' && TRACE_ID.test(given) ? given : shortId();
    },
  }).withTypeProvider<ZodTypeProvider>();
  // JSON only: a text/plain body is refused (415) rather than half-understood.
  server.removeContentTypeParser('text/plain');
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);

  server.addHook('onRequest', async (req, reply) => {
    reply.header('x-trace-id', req.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-resource-policy', 'same-origin');
    if (!req.url.startsWith(DOCS_PREFIX)) {
      reply.header('cache-control', 'no-store');
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    }
  });

  server.setErrorHandler((err: FastifyError, req, reply) => {
    const answered = answerClientError(err, req, reply);
    if (answered) return answered;
    req.log.error({ err, traceId: req.id, url: req.url }, 'HTTP request failed');
    return sendError(req, reply, 500, 'infra_internal', `Internal error; nothing more is shown here. Quote ref ${req.id} when reporting it.`);
  });
  server.setNotFoundHandler((req, reply) =>
    sendError(req, reply, 404, 'infra_not_found', `No route ${req.method} ${req.url.split('?')[0]}. The API is described at /openapi.json and ${DOCS_PREFIX}.`),
  );

  await server.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'infrabot control API',
        version: '1',
        description:
          'Kill-switch, cluster switches, rate limits, circuit breakers, health, audit and incidents. Every call runs the same command as chat ' +
          '(authorized, confirmed, audited). Authenticate with `Authorization: Bearer <key>` (`/infra apikey create`). Errors: `{error: {code, message, traceId}}`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from `apikey create`' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await server.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });

  // Public: liveness, readiness and the API description.
  const publicRoute = { security: [], tags: ['service'] };
  server.get('/healthz', { schema: { ...publicRoute, summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  server.get(
    '/readyz',
    { schema: { ...publicRoute, summary: 'Readiness: the store answers', response: { 200: z.object({ status: z.literal('ready') }), 503: errorBody } } },
    async (req, reply) => {
      try {
        await app.engine.state();
        return { status: 'ready' as const };
      } catch (err) {
        req.log.warn({ err, traceId: req.id }, 'not ready: the store does not answer');
        return sendError(req, reply, 503, 'infra_busy', 'Not ready: the store does not answer.');
      }
    },
  );
  server.get('/openapi.json', { schema: { hide: true } }, async () => server.swagger());
  // Prometheus scrapes /metrics without a key (names only, no secrets); the alert webhooks check their own
  // configured tokens or signatures (docs/alerts-from-prometheus.md), so they are not behind API keys either.
  await server.register(metricsRoutes, { metrics: app.metrics });
  const health = app.health;
  if (health) await server.register(alertReceiverRoutes, { config: app.config.receivers, receive: (alerts) => health.receiveAlerts(alerts) });

  // Everything below needs an API key, checked in onRequest before the body is read.
  await server.register(async (api) => {
    api.decorateRequest('principal', undefined);
    api.addHook('onRequest', createApiKeyCheck({ apiKeys, clock: app.engine.clock, log: app.log, ...(opts.processKey ? { processKey: opts.processKey } : {}) }));
    await api.register(async (commands) => {
      commands.addHook('onRequest', createKeyRequestLimit(opts.perMinute ?? app.config.http.rateLimit.perMinute));
      await commands.register(controlRoutes, { pipeline: app.pipeline, apiKeys, registry: app.pipeline.registry, now: () => app.engine.clock.now() });
    });
    // The guard routes (stream, check, report), behind the same key check; a key covers the clusters it names.
    const { url, prefix } = app.config.redis;
    const stillHolds = createKeyRecheck({ apiKeys, clock: app.engine.clock });
    await api.register(guardRoutes, {
      feed: app.control,
      ...(url ? { redis: { url, prefix } } : {}),
      authorize: keyCovers,
      // A stream outlives its request: its key is checked again before every change and keep-alive.
      streamAccess: (req) => {
        const p = principalOf(req);
        return { ...(p.clusters ? { clusters: p.clusters } : {}), stillValid: () => stillHolds(p) };
      },
    });
  });
  // Callers (listen, inject, tests) need no zod type provider; plugins registered later bring their own.
  return server as unknown as FastifyInstance;
}
