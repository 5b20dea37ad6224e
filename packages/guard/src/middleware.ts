import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Guard } from './create-guard.js';
import { guardRequest, refusal, traceIdOf, type MiddlewareOptions } from './guard-request.js';

/**
 * Express (4 and 5) middleware: `app.use('/api/wolf-pack', expressGuard(guard), router)`. Refusals are
 * 503 or 429 with Retry-After and X-Trace-Id; allowed requests are reported when they finish.
 */
export function expressGuard(guard: Guard, opts: MiddlewareOptions = {}) {
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    nodeGuard(guard, opts)(req, res).then((go) => go && next(), next);
  };
}

/**
 * Fastify `onRequest` hook: `app.addHook('onRequest', fastifyGuard(guard))` (or in one plugin's scope).
 * Typed structurally so the guard does not depend on fastify.
 */
export function fastifyGuard(guard: Guard, opts: MiddlewareOptions = {}) {
  return async (
    request: { headers: IncomingMessage['headers']; url: string; raw: IncomingMessage },
    reply: { raw: ServerResponse; code(n: number): unknown; headers(h: Record<string, string>): unknown; send(body: string): unknown },
  ): Promise<unknown> => {
    const { decision, finished } = await guardRequest(guard, request, opts);
    if (decision.allowed) {
      reply.raw.once('finish', () => finished(reply.raw.statusCode));
      return undefined;
    }
    const r = refusal(decision, traceIdOf(request.headers));
    reply.code(r.status);
    reply.headers(r.headers);
    reply.send(r.body);
    return reply; // fastify: an async hook that answered returns the reply so the route does not run
  };
}

/**
 * Plain `node:http`: `if (!(await guarded(req, res))) return;` at the top of a handler. Returns false after
 * answering a refusal itself.
 */
export function nodeGuard(guard: Guard, opts: MiddlewareOptions = {}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const { decision, finished } = await guardRequest(guard, req, opts);
    if (decision.allowed) {
      res.once('finish', () => finished(res.statusCode));
      return true;
    }
    const r = refusal(decision, traceIdOf(req.headers));
    res.writeHead(r.status, r.headers).end(r.body);
    return false;
  };
}
