import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Decision } from './decision.js';
import type { Guard } from './create-guard.js';

export interface MiddlewareOptions {
  /** Tenant key for per-tenant rate limits (e.g. from an API key or a header); undefined = cluster-wide. */
  key?: (req: { headers: IncomingHttpHeaders; url?: string }) => string | undefined;
}

const TRACE_ID = /^[\w.:-]{1,64}$/;

/** The caller's X-Trace-Id when it is sane, else a new one: refusals always carry one to quote. */
export function traceIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-trace-id'];
  return typeof given === 'string' && TRACE_ID.test(given) ? given : randomUUID().replace(/-/g, '').slice(0, 16);
}

/** Headers and JSON body of a refusal, the same for every framework. */
export function refusal(d: Extract<Decision, { allowed: false }>, traceId: string) {
  return {
    status: d.status,
    headers: { 'retry-after': String(d.retryAfterSeconds), 'x-trace-id': traceId, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify({ error: { code: d.reason, message: d.message, traceId, retryAfterSeconds: d.retryAfterSeconds } }),
  };
}

/** Runs the guard for one request; on allow, returns a function to call when the response has finished. */
export async function guardRequest(guard: Guard, req: { headers: IncomingHttpHeaders; url?: string }, opts: MiddlewareOptions) {
  const started = performance.now();
  const key = opts.key?.(req);
  const decision = await guard.check(key === undefined ? {} : { key });
  return {
    decision,
    finished: (statusCode: number) => guard.report({ error: statusCode >= 500, latencyMs: performance.now() - started }),
  };
}
