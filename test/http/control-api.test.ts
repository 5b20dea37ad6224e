import { Validator } from '@seriousme/openapi-schema-validator';
import { readFileSync, existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/test-app.js';
import { apiHarness, type ApiHarness } from './http-helpers.js';

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const audit = async (h: ApiHarness, userId: string) => (await h.app.store.searchAudit({ userId, limit: 50 })).reverse();

describe('HTTP control API: routes', () => {
  it('every route runs its command through the pipeline and answers with the command data', async () => {
    h = await apiHarness();
    const { token, id } = await h.key('ops --role admin');
    const ok = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
      const r = await h!.call(method, url, { token, ...(body !== undefined ? { body } : {}) });
      expect(r.status, `${method} ${url}: ${JSON.stringify(r.body)}`).toBe(200);
      expect(r.body.traceId).toBe(r.headers['x-trace-id']);
      return r.body.data;
    };
    expect((await ok('GET', '/api/control')).clusters.map((c: { name: string }) => c.name)).toEqual(['api', 'db', 'web']);
    expect(await ok('POST', '/api/control/kill-switch/enable', { reason: 'payments corrupt', confirm: true })).toMatchObject({ changed: true, killSwitch: { on: true } });
    expect((await ok('GET', '/api/control')).clusters.every((c: { serving: boolean }) => !c.serving)).toBe(true);
    expect(await ok('POST', '/api/control/kill-switch/disable')).toMatchObject({ changed: true, killSwitch: { on: false } });
    expect(await ok('POST', '/api/control/cluster/api/disable', { reason: 'bad deploy', confirm: true })).toMatchObject({ changed: true, cluster: { name: 'api', enabled: false } });
    expect(await ok('POST', '/api/control/cluster/api/enable', { reason: 'rolled back' })).toMatchObject({ changed: true, cluster: { enabled: true, serving: true } });
    expect(await ok('GET', '/api/control/cluster/api/rate-limit')).toEqual({ rateLimits: [{ cluster: 'api', perMinute: 600, perHour: 20000, perDay: 300000 }] });
    expect(await ok('POST', '/api/control/cluster/api/rate-limit', { perMinute: 300 })).toMatchObject({ before: { perMinute: 600 }, after: { perMinute: 300, perHour: 20000 } });
    expect(await ok('POST', '/api/control/cluster/api/circuit-breaker/trip', { reason: 'timeouts', confirm: true })).toMatchObject({ changed: true, breaker: { cluster: 'api', state: 'open' } });
    expect(await ok('POST', '/api/control/cluster/api/circuit-breaker/reset')).toMatchObject({ changed: true, breaker: { state: 'closed' } });
    expect(await ok('GET', '/api/health/api')).toEqual({ checks: [] });
    expect((await ok('GET', '/api/control?cluster=web')).clusters.map((c: { name: string }) => c.name)).toEqual(['web']);
    expect((await h.app.run('incident declare "Checkout errors" --sev 2 --cluster api')).outcome).toBe('ok');
    expect((await ok('GET', '/api/incidents?open=true')).incidents).toMatchObject([{ id: 1, sev: 2, cluster: 'api', status: 'open' }]);
    expect((await ok('GET', '/api/incidents/1')).incident).toMatchObject({ id: 1, title: 'Checkout errors' });
    expect((await ok('GET', '/api/incidents/INC-1')).incident).toMatchObject({ id: 1 }); // as replies show it
    const found = await ok('GET', '/api/audit?action=cluster&limit=5');
    expect(found.records.map((r: { command: string }) => r.command)).toEqual(['cluster enable', 'cluster disable']);

    // Each call is one audit record of the key, as platform http, with the command line it stands for.
    const records = await audit(h, `apikey:${id}`);
    expect(records.every((r) => r.platform === 'http' && r.userName === 'apikey ops')).toBe(true);
    expect(records.map((r) => r.rawText)).toContain('cluster disable api --reason "bad deploy"');
    expect((await h.app.run('status api')).data).toMatchObject({ clusters: [{ rateLimits: { perMinute: 300 } }] });
  });

  it('health, readiness, the OpenAPI document and the docs page need no key', async () => {
    h = await apiHarness();
    expect(await h.call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await h.call('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    const metrics = await h.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toContain('# TYPE');
    // The alert webhooks answer with their own credentials check, not the API key's.
    const webhook = await h.call('POST', '/api/alerts/alertmanager', { body: { version: '4', alerts: [] } });
    expect(webhook.body.error.code).not.toBe('infra_unauthorized');
    const docs = await h.call('GET', '/docs/');
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain('swagger');
    const doc = await h.call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    const validator = new Validator();
    const result = await validator.validate(doc.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/healthz', '/readyz', '/api/control', '/api/control/kill-switch/enable', '/api/control/kill-switch/disable',
        '/api/control/cluster/{clusterId}/enable', '/api/control/cluster/{clusterId}/disable', '/api/control/cluster/{clusterId}/rate-limit',
        '/api/control/cluster/{clusterId}/circuit-breaker/trip', '/api/control/cluster/{clusterId}/circuit-breaker/reset',
        '/api/health/{clusterId}', '/api/audit', '/api/incidents', '/api/incidents/{incidentId}',
      ]),
    );
    // The data schemas are the commands' own: the disable response documents `serving`.
    const disable = doc.body.paths['/api/control/cluster/{clusterId}/disable'].post;
    expect(JSON.stringify(disable.responses['200'])).toContain('serving');
    expect(JSON.stringify(disable.requestBody)).toContain('confirm');
  });
});

describe('HTTP control API: confirmation, errors and trace ids', () => {
  it('a dangerous action without confirm answers 428 and changes nothing', async () => {
    h = await apiHarness();
    const { token } = await h.key('ops --role operator');
    const r = await h.call('POST', '/api/control/cluster/api/disable', { token, body: { reason: 'bad deploy' } });
    expect(r.status).toBe(428);
    expect(r.body.error).toMatchObject({ code: 'infra_confirmation_required', message: expect.stringContaining('"confirm": true') });
    expect((await h.app.run('status api')).data).toMatchObject({ clusters: [{ enabled: true }] });
  });

  it('maps command errors to status codes with one JSON error shape', async () => {
    h = await apiHarness();
    const { token } = await h.key('ops --role operator');
    const expectError = async (method: 'GET' | 'POST', url: string, status: number, code: string, body?: unknown, headers?: Record<string, string>) => {
      const r = await h!.call(method, url, { token, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
      expect(r.status, `${method} ${url}: ${JSON.stringify(r.body)}`).toBe(status);
      expect(r.body).toEqual({ error: { code, message: expect.any(String), traceId: r.headers['x-trace-id'] } });
      return r.body.error.message as string;
    };
    expect(await expectError('POST', '/api/control/cluster/nope/enable', 404, 'infra_not_found')).toContain('No cluster named "nope"');
    expect(await expectError('POST', '/api/control/cluster/api/rate-limit', 400, 'infra_usage', { perMinute: 'many' })).toContain('perMinute');
    expect(await expectError('POST', '/api/control/cluster/api/rate-limit', 400, 'infra_usage', { perMinute: 1, colour: 'red' })).toContain('colour');
    expect(await expectError('POST', '/api/control/cluster/api/rate-limit', 400, 'infra_usage', {})).toContain('at least one');
    expect(await expectError('POST', '/api/control/cluster/api/rate-limit', 409, 'infra_invalid_state', { perMinute: 50_000 })).toContain('must not shrink');
    expect(await expectError('GET', '/api/audit?limit=9999', 400, 'infra_usage')).toContain('limit');
    expect(await expectError('GET', '/api/incidents/abc', 400, 'infra_usage')).toContain('"abc" is not an incident id');
    expect(await expectError('GET', '/api/incidents/42', 404, 'infra_not_found')).toContain('INC-42');
    expect(await expectError('GET', '/api/nothing-here', 404, 'infra_not_found')).toContain('/openapi.json');
    expect(await expectError('POST', '/api/control/cluster/api/rate-limit', 400, 'infra_usage', '{"perMinute":', { 'content-type': 'application/json' })).toBeTruthy();
    expect(await expectError('POST', '/api/control/cluster/api/enable', 415, 'infra_unsupported_media_type', 'reason=x', { 'content-type': 'text/plain' })).toBeTruthy();
    expect(await expectError('POST', '/api/control/cluster/api/enable', 413, 'infra_body_too_large', { reason: 'x'.repeat(40_000) })).toContain('16384 bytes');
  });

  it('keeps a caller\'s X-Trace-Id, returns it, and records it in the audit log', async () => {
    h = await apiHarness();
    const { token } = await h.key('ops --role operator');
    const r = await h.call('POST', '/api/control/cluster/api/enable', { token, headers: { 'x-trace-id': 'deploy-4711.step-3' } });
    expect(r.headers['x-trace-id']).toBe('deploy-4711.step-3');
    expect(r.body.traceId).toBe('deploy-4711.step-3');
    const [record] = await h.app.store.searchAudit({ command: 'cluster enable', limit: 1 });
    expect(record!.traceId).toBe('deploy-4711.step-3');
    // Not a sane token (spaces, too long): a new id is generated instead.
    const bad = await h.call('GET', '/api/control', { token, headers: { 'x-trace-id': 'a b' } });
    expect(bad.headers['x-trace-id']).toMatch(/^[a-z2-9]{10}$/);
  });

  it('sets security headers on every answer', async () => {
    h = await apiHarness();
    const r = await h.call('GET', '/api/control');
    expect(r.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    });
  });

  it('a 500 shows no stack trace or internal message, only a reference that is in the log', async () => {
    h = await apiHarness();
    const { token } = await h.key('ops --role operator');
    await h.app.store.db.close(); // the store stops answering
    const routes: ['GET' | 'POST', string][] = [['GET', '/api/control'], ['GET', '/readyz']];
    for (const [method, url] of routes) {
      const r = await h.call(method, url, { token });
      expect(r.status).toBeGreaterThanOrEqual(500);
      const text = JSON.stringify(r.body);
      expect(text).not.toMatch(/\bat .*\.(ts|js):\d+|database connection|TypeError|Error:/);
      expect(r.body.error.traceId).toBe(r.headers['x-trace-id']);
    }
    const r = await h.call('GET', '/api/control', { token });
    expect(r.body.error).toMatchObject({ code: 'infra_internal', message: expect.stringContaining(r.headers['x-trace-id'] as string) });
    expect(h.app.logs.text()).toContain(r.headers['x-trace-id'] as string);
    (h.app as { db?: unknown }).db = undefined;
  });
});

describe('HTTP control API: API keys', () => {
  it('scopes a key to its role and clusters; out-of-scope calls get 403 and are audited', async () => {
    h = await apiHarness();
    const op = await h.key('api-ops --role operator --cluster api');
    const viewer = await h.key('dash --role viewer');
    expect((await h.call('POST', '/api/control/cluster/api/enable', { token: op.token })).status).toBe(200);
    const denied = await h.call('POST', '/api/control/cluster/web/disable', { token: op.token, body: { reason: 'not mine', confirm: true } });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toEqual({
      code: 'infra_denied',
      message: 'This needs the operator role on cluster "web" (or globally); this API key is operator on api only. An admin can create a key with that scope (`apikey create`).',
      traceId: denied.headers['x-trace-id'],
    });
    expect((await h.call('POST', '/api/control/kill-switch/enable', { token: op.token, body: { reason: 'nope nope', confirm: true } })).status).toBe(403);
    // Listings show a scoped key what it covers, as they do for a scoped user.
    const listed = await h.call('GET', '/api/control', { token: op.token });
    expect(listed.status).toBe(200);
    expect(listed.body.data.clusters.map((c: { name: string }) => c.name)).toEqual(['api']);
    expect((await h.call('GET', '/api/control', { token: viewer.token })).status).toBe(200);
    expect((await h.call('POST', '/api/control/cluster/api/circuit-breaker/reset', { token: viewer.token })).status).toBe(403);
    // A grant to someone else never widens a key, and the config admins do not include keys.
    const records = await audit(h, `apikey:${op.id}`);
    expect(records.map((r) => [r.command, r.cluster ?? null, r.outcome])).toEqual([
      ['cluster enable', 'api', 'ok'],
      ['cluster disable', 'web', 'denied'],
      ['killswitch on', null, 'denied'],
      ['status', null, 'ok'],
    ]);
    expect((await h.app.run('status web')).data).toMatchObject({ clusters: [{ enabled: true }] });
  });

  it('refuses unknown, malformed, revoked and expired keys with 401', async () => {
    const clock = manualClock(new Date().toISOString());
    h = await apiHarness({ clock });
    const short = await h.key('short --role viewer --expires 1h');
    const long = await h.key('long --role viewer');
    expect((await h.call('GET', '/api/control', { token: short.token })).status).toBe(200);
    const tampered = long.token.slice(0, -2) + (long.token.endsWith('AA') ? 'BB' : 'AA');
    for (const token of ['nonsense', tampered, `ibk_${'a'.repeat(12)}_${'A'.repeat(43)}`]) {
      const r = await h.call('GET', '/api/control', { token });
      expect(r.status, token).toBe(401);
      expect(r.body.error.code).toBe('infra_unauthorized');
      expect(r.headers['www-authenticate']).toContain('Bearer');
    }
    expect((await h.app.run('apikey revoke long')).data).toMatchObject({ changed: true, key: { status: 'revoked' } });
    expect((await h.call('GET', '/api/control', { token: long.token })).status).toBe(401);
    clock.advance(3_600_001);
    expect((await h.call('GET', '/api/control', { token: short.token })).status).toBe(401);
    const listed = (await h.app.run('apikey list')).data as { keys: { name: string; status: string }[] };
    expect(Object.fromEntries(listed.keys.map((k) => [k.name, k.status]))).toEqual({ short: 'expired', long: 'revoked' });
  });

  it('stores only a hash: the key is in no table, not even in the reply kept for duplicate deliveries', async () => {
    h = await apiHarness();
    const reply = await h.app.run('apikey create ci --role operator --cluster api,web', { id: 'delivery-1' });
    const token = (reply.data as { token: string }).token;
    expect(reply.text).toContain(token);
    expect(reply.visibility).toBe('ephemeral');
    // A redelivery of the same chat invocation gets the stored reply: without the key.
    const again = await h.app.run('apikey create ci --role operator --cluster api,web', { id: 'delivery-1' });
    expect(JSON.stringify(again)).not.toContain(token);
    expect(again.text).toContain('[shown once]');
    const secret = token.slice(-43);
    const rows = h.app.db!.prepare('SELECT * FROM api_keys').all() as { secret_hash: string; clusters: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.clusters).toBe('["api","web"]');
    h.app.db!.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of [h.app.dbFile, `${h.app.dbFile}-wal`]) {
      if (existsSync(file)) expect(readFileSync(file).includes(secret), file).toBe(false);
    }
    expect(h.app.logs.text()).not.toContain(secret);
    expect((await h.call('GET', '/api/control/cluster/web/rate-limit', { token })).status).toBe(200);
  });

  it('limits requests per key with 429 and Retry-After', async () => {
    h = await apiHarness({ perMinute: 3 });
    const a = await h.key('a --role viewer');
    const b = await h.key('b --role viewer');
    for (let i = 0; i < 3; i++) expect((await h.call('GET', '/api/control', { token: a.token })).status).toBe(200);
    const limited = await h.call('GET', '/api/control', { token: a.token });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('infra_rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await h.call('GET', '/api/control', { token: b.token })).status).toBe(200);
    // Guards check on every request they serve: the guard routes are not under the per-key limit.
    for (let i = 0; i < 5; i++) expect((await h.call('POST', '/api/control/check', { token: a.token, body: { cluster: 'api' } })).status).toBe(200);
  });
});

describe('HTTP control API: idempotency', () => {
  it('replays the stored answer for the same key and body, once executed; another body under the key gets 422', async () => {
    h = await apiHarness();
    const { token, id } = await h.key('ci --role operator');
    const headers = { 'idempotency-key': 'rollout-42' };
    const body = { reason: 'bad deploy', confirm: true };
    const first = await h.call('POST', '/api/control/cluster/api/disable', { token, body, headers });
    expect(first.status).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    await h.app.run('cluster enable api'); // someone else changes it meanwhile: the retry must not disable it again
    const retry = await h.call('POST', '/api/control/cluster/api/disable', { token, body, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect((await h.app.run('status api')).data).toMatchObject({ clusters: [{ enabled: true }] });
    expect((await audit(h, `apikey:${id}`)).filter((r) => r.command === 'cluster disable')).toHaveLength(1);

    const conflict = await h.call('POST', '/api/control/cluster/api/disable', { token, body: { reason: 'another reason', confirm: true }, headers });
    expect(conflict.status).toBe(422);
    expect(conflict.body.error.code).toBe('infra_idempotency_mismatch');
    // Concurrent retries execute once too.
    const burst = await Promise.all(
      [1, 2, 3].map(() => h!.call('POST', '/api/control/cluster/web/disable', { token, body, headers: { 'idempotency-key': 'burst-1' } })),
    );
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(new Set(burst.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect((await audit(h, `apikey:${id}`)).filter((r) => r.command === 'cluster disable' && r.cluster === 'web')).toHaveLength(1);
  });

  it('keeps idempotency keys per API key', async () => {
    h = await apiHarness();
    const a = await h.key('a --role operator');
    const b = await h.key('b --role operator');
    const headers = { 'idempotency-key': 'same' };
    expect((await h.call('POST', '/api/control/cluster/api/enable', { token: a.token, body: { reason: 'a says so' }, headers })).status).toBe(200);
    expect((await h.call('POST', '/api/control/cluster/web/enable', { token: b.token, body: { reason: 'b says so' }, headers })).status).toBe(200);
  });
});

describe('HTTP control API: API keys in the audit log', () => {
  it('finds what a key did with `audit --user apikey:<id>`, and refuses role grants to keys', async () => {
    h = await apiHarness();
    const { token, id } = await h.key('ci --role operator');
    await h.call('POST', '/api/control/cluster/db/enable', { token });
    const found = await h.call('GET', `/api/audit?user=apikey:${id}`, { token });
    expect(found.status).toBe(200);
    expect(found.body.data.records.map((r: { command: string }) => r.command)).toContain('cluster enable');
    const grant = await h.app.run(`role grant apikey:${id} admin`);
    expect(grant.outcome).toBe('invalid');
    expect(grant.text).toContain('is an API key');
  });
});

describe('HTTP control API: request handling order and key commands', () => {
  it('checks the key before reading the body: an unauthenticated oversized or malformed body gets 401', async () => {
    h = await apiHarness();
    const big = await h.call('POST', '/api/control/cluster/api/enable', { body: { reason: 'x'.repeat(100_000) } });
    expect(big.status).toBe(401);
    const broken = await h.call('POST', '/api/control/cluster/api/enable', { body: '{"reason":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(401);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    h = await apiHarness();
    const { token } = await h.key('ci --role operator');
    const r = await h.call('POST', '/api/control/cluster/api/enable', { token, headers: { 'idempotency-key': 'x'.repeat(200) } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('Idempotency-Key');
  });

  it('apikey create refuses unknown clusters, bad lifetimes and duplicate names, and is admin only', async () => {
    h = await apiHarness();
    const bad = async (text: string, as?: string) => {
      const r = await h!.app.run(text, as ? { as } : {});
      expect(r.outcome, text).not.toBe('ok');
      return r.text ?? '';
    };
    expect(await bad('apikey create ci --role operator --cluster nope')).toContain('No cluster named "nope"');
    expect(await bad('apikey create ci --role operator --expires soon')).toContain('--expires');
    expect(await bad('apikey create ci --role operator --expires 9999d')).toContain('3 years');
    await h.key('ci --role operator');
    expect(await bad('apikey create ci --role viewer')).toContain('exists already');
    expect(await bad('apikey list', 'local:bob')).toContain('admin role');
    expect((await h.app.run('apikey create ci2 --role viewer --expires never')).data).toMatchObject({ key: { expiresAt: null, status: 'active' } });
    expect(h.app.db!.prepare('SELECT COUNT(*) FROM api_keys').pluck().get()).toBe(2);
  });
});

describe('HTTP control API: plugins behind the key check', () => {
  it('keyCovers tells route plugins which clusters the calling key covers', async () => {
    const { keyCovers } = await import('../../src/http/api-principal.js');
    const { createHttpServer } = await import('../../src/http/create-http-server.js');
    const { createTestApp } = await import('../helpers/test-app.js');
    const app = await createTestApp();
    const server = await createHttpServer({ app });
    const seen: Record<string, boolean[]> = {};
    // What a plugin registered in the authenticated scope sees, on real requests.
    server.addHook('onResponse', async (req) => {
      if (req.principal) seen[req.principal.user.displayName] = [keyCovers(req, 'api'), keyCovers(req, 'web'), keyCovers(req)];
    });
    await server.ready();
    try {
      const token = async (args: string) => ((await app.run(`apikey create ${args}`)).data as { token: string }).token;
      for (const t of [await token('svc --role viewer --cluster api'), await token('all --role viewer')]) {
        await server.inject({ method: 'GET', url: '/api/control/cluster/api/rate-limit', headers: { authorization: `Bearer ${t}` } });
      }
      expect(seen).toEqual({ 'apikey svc': [true, false, true], 'apikey all': [true, true, true] });
    } finally {
      await server.close();
      await app.cleanup();
    }
  });
});

describe('HTTP control API: the guard routes behind the key check', () => {
  it('check and stream need a key, honour its clusters, and see a change made through the API', async () => {
    h = await apiHarness();
    const svc = await h.key('checkout --role viewer --cluster api');
    const ops = await h.key('ops --role operator');
    expect((await h.call('POST', '/api/control/check', { body: { cluster: 'api', service: 'checkout' } })).status).toBe(401);
    const allowed = await h.call('POST', '/api/control/check', { token: svc.token, body: { cluster: 'api', service: 'checkout' } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ allowed: true });
    const outOfScope = await h.call('POST', '/api/control/check', { token: svc.token, body: { cluster: 'web', service: 'checkout' }, headers: { 'x-trace-id': 'caller-trace-7' } });
    expect(outOfScope.status).toBe(403);
    // One id to quote: the refusal's traceId is the X-Trace-Id the caller sent and got back.
    expect(outOfScope.headers['x-trace-id']).toBe('caller-trace-7');
    expect(outOfScope.body).toMatchObject({ error: { code: 'infra_forbidden', traceId: 'caller-trace-7' } });
    await h.call('POST', '/api/control/cluster/api/disable', { token: ops.token, body: { reason: 'bad deploy', confirm: true } });
    await new Promise((r) => setTimeout(r, 50)); // the control channel publishes after the commit lands
    const denied = await h.call('POST', '/api/control/check', { token: svc.token, body: { cluster: 'api', service: 'checkout' } });
    expect(denied.body).toMatchObject({ allowed: false, reason: 'cluster-disabled', status: 503 });

    // The stream, on a real port: the first event is the snapshot with the cluster disabled.
    const url = await h.server.listen({ host: '127.0.0.1', port: 0 });
    const abort = new AbortController();
    const res = await fetch(`${url}/api/control/stream`, { headers: { authorization: `Bearer ${svc.token}` }, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-trace-id')).toBeTruthy(); // the server's headers survive the hijacked stream
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: snapshot') || !text.slice(text.indexOf('event: snapshot')).includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    const event = text.slice(text.indexOf('event: snapshot'));
    expect(event).toMatch(/^event: snapshot\nid: \d+\ndata: /);
    expect(JSON.parse(event.split('\ndata: ')[1]!.split('\n')[0]!).clusters.api).toMatchObject({ enabled: false });
    const noKey = await fetch(`${url}/api/control/stream`);
    expect(noKey.status).toBe(401);
  });
});
