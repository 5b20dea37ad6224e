import { afterEach, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../helpers/test-app.js';
import { apiHarness, type ApiHarness } from './http-helpers.js';

let h: ApiHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const AM_TOKEN = 'am-token-0123456789abcdef';

async function admin(config?: string) {
  h = await apiHarness(config ? { config } : {});
  const { token } = await h.key('ops-bot --role admin');
  return token;
}

/** The error message an HTTP call answers with, asserting the one error shape and that it is a 4xx. */
async function problem(token: string, method: 'GET' | 'POST', url: string, body?: unknown, headers?: Record<string, string>) {
  const res = await h!.call(method, url, { token, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'traceId']);
  expect(res.body.error.traceId).toBe(res.headers['x-trace-id']);
  return { status: res.status, code: res.body.error.code as string, message: res.body.error.message as string };
}

describe('HTTP API: bad input is told as the CLI tells it, in JSON field names', () => {
  it('names the missing field, the number out of range or of the wrong type, and the value sent', async () => {
    const t = await admin();
    expect((await problem(t, 'POST', '/api/control/kill-switch/enable')).message).toBe('killswitch on: missing reason (Why, at least 3 characters (recorded in the audit log)).');
    const rate = (perMinute: unknown) => problem(t, 'POST', '/api/control/cluster/api/rate-limit', { perMinute });
    expect((await rate(-5)).message).toBe('ratelimit set: perMinute must be a whole number from 1 to 1,000,000,000, not -5.');
    expect((await rate('abc')).message).toBe('ratelimit set: perMinute must be a whole number from 1 to 1,000,000,000, not "abc".');
    expect((await rate(1.5)).message).toBe('ratelimit set: perMinute must be a whole number from 1 to 1,000,000,000, not 1.5.');
    expect(await problem(t, 'POST', '/api/control/cluster/api/rate-limit', {})).toMatchObject({
      status: 400,
      code: 'infra_usage',
      message: 'ratelimit set: give at least one of perMinute, perHour, perDay.',
    });
    expect((await problem(t, 'POST', '/api/control/cluster/api/disable', { reason: 'bad deploy', confirm: 'yes' })).message).toBe(
      'cluster disable: confirm takes true or false, not "yes".',
    );
    expect((await problem(t, 'POST', '/api/control/cluster/api/rate-limit', { perMinut: 10 })).message).toBe(
      'ratelimit set: unknown field "perMinut". Did you mean perMinute?',
    );
    expect((await problem(t, 'POST', '/api/control/kill-switch/enable', { reason: 'no' })).message).toBe(
      'killswitch on: reason: a reason of at least 3 characters is required, not "no".',
    );
    expect((await problem(t, 'GET', '/api/audit?limit=0')).message).toBe('audit search: limit must be a whole number from 1 to 200, not 0.');
    expect((await problem(t, 'GET', '/api/audit?limit=100000')).message).toBe('audit search: limit must be a whole number from 1 to 200, not 100000.');
    expect((await problem(t, 'GET', '/api/audit?limit=abc')).message).toBe('audit search: limit must be a whole number from 1 to 200, not "abc".');
    // Nothing changed.
    expect((await h!.app.engine.state()).killSwitch.on).toBe(false);
  });

  it('the CLI keeps its flag names for the same rule', async () => {
    h = await apiHarness();
    const reply = await h.app.run('ratelimit set api');
    expect(reply.text).toContain('give at least one of --per-minute, --per-hour, --per-day.');
  });
});

describe('HTTP API: the alert receivers answer in the same shape and words', () => {
  const config = `${TEST_CONFIG}\nreceivers:\n  alertmanager: { token: ${AM_TOKEN} }\n`;
  const am = { authorization: `Bearer ${AM_TOKEN}` };

  it('415 for a body that is not JSON, as every other route answers it', async () => {
    await admin(config);
    const res = await h!.server.inject({ method: 'POST', url: '/api/alerts/alertmanager', headers: { ...am, 'content-type': 'text/plain' }, payload: 'hello' });
    expect(res.statusCode).toBe(415);
    const body = res.json();
    expect(body).toEqual({ error: { code: 'infra_unsupported_media_type', message: 'Send the body as application/json.', traceId: res.headers['x-trace-id'] } });
  });

  it('a body of another shape names each wrong field as the docs promise', async () => {
    await admin(config);
    const res = await h!.server.inject({
      method: 'POST',
      url: '/api/alerts/alertmanager',
      headers: { ...am, 'content-type': 'application/json' },
      payload: { version: '4', alerts: [{ status: 'firing', labels: {}, annotations: {}, startsAt: '2026-12-02T00:10:00Z' }] },
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('infra_usage');
    expect(error.traceId).toBe(res.headers['x-trace-id']);
    expect(error.message).toContain('alerts.0.fingerprint: expected string, but it is missing.');
    expect(error.message).not.toMatch(/Invalid input/);
  });
});

describe('HTTP API: the OpenAPI document of the control stream', () => {
  it('lists the 200 event stream and the 401 of the key check', async () => {
    h = await apiHarness();
    const doc = await h.call('GET', '/openapi.json');
    const stream = doc.body.paths['/api/control/stream'].get;
    expect(Object.keys(stream.responses['200'].content)).toEqual(['text/event-stream']);
    expect(stream.responses['401'].content['application/json'].schema.properties.error).toBeDefined();
    expect(stream.responses['403']).toBeDefined();
  });
});
