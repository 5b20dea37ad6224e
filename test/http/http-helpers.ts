import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { createHttpServer } from '../../src/http/create-http-server.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import type { Clock } from '../../src/engine/engine.js';

export interface ApiHarness {
  app: TestApp;
  server: FastifyInstance;
  /** Creates a key through the real `apikey create` command and returns its token. */
  key(args: string): Promise<{ token: string; id: string }>;
  // `any`: tests read whatever JSON a route answered, and assert on its shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  call(method: 'GET' | 'POST', url: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function apiHarness(opts: { clock?: Clock; perMinute?: number; bodyLimit?: number; config?: string } = {}): Promise<ApiHarness> {
  const app = await createTestApp({ ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.config ? { config: opts.config } : {}) });
  const server = await createHttpServer({ app, ...(opts.perMinute ? { perMinute: opts.perMinute } : {}), ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}) });
  await server.ready();
  return {
    app,
    server,
    async key(args) {
      const reply = await app.run(`apikey create ${args}`);
      expect(reply.outcome, reply.text).toBe('ok');
      const data = reply.data as { token: string; key: { id: string } };
      return { token: data.token, id: data.key.id };
    },
    async call(method, url, o = {}) {
      const res = await server.inject({
        method,
        url,
        headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.headers ?? {}) },
        ...(o.body !== undefined ? { payload: o.body as object } : {}),
      });
      let body: unknown = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {
        // not JSON (docs page)
      }
      return { status: res.statusCode, body, headers: res.headers };
    },
    async close() {
      await server.close();
      await app.cleanup();
    },
  };
}
