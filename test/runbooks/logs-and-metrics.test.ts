import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachmentBytes } from '../../src/framework/reply.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { decodePng } from './decode-png.js';
import { json, loopback, say } from './fixtures.js';

const SECRET = 'sekrit-value-777';
let loki: Awaited<ReturnType<typeof loopback>>;
let prom: Awaited<ReturnType<typeof loopback>>;
let files: string;

beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'rb-logs-'));
  writeFileSync(join(files, 'app.log'), Array.from({ length: 300 }, (_, i) => `line ${i} ${i % 10 === 0 ? 'ERROR boom' : 'ok'} token=${SECRET}`).join('\n') + '\n');
  loki = await loopback((r, res) => {
    const u = new URL(r.url, 'http://x');
    json(res, 200, {
      status: 'success',
      data: {
        resultType: 'streams',
        result: [
          { stream: { app: 'shop' }, values: [['1764590000000000002', 'second from loki'], ['1764590000000000000', `first from loki ${u.searchParams.get('query')}`]] },
          { stream: { app: 'shop', pod: 'b' }, values: [['1764590000000000001', 'middle from loki']] },
        ],
      },
    });
  });
  prom = await loopback((r, res) => {
    const u = new URL(r.url, 'http://x');
    const start = Number(u.searchParams.get('start'));
    const step = Number(u.searchParams.get('step'));
    const values = Array.from({ length: 100 }, (_, i) => [start + i * step, String(20 + 30 * Math.sin(i / 8))]);
    json(res, 200, { status: 'success', data: { resultType: 'matrix', result: [{ metric: { instance: 'shop-1' }, values }] } });
  });
});
afterAll(async () => {
  await Promise.all([loki.close(), prom.close()]);
  rmSync(files, { recursive: true, force: true });
});

function config() {
  const base = { cluster: 'api', secrets: ['LOG_TOKEN'] };
  const services = {
    shop: { ...base, logs: { file: join(files, 'app.log') }, metrics: { prometheus: prom.url, queries: { cpu: { query: 'rate(cpu_seconds_total{app="shop"}[5m]) * 100', unit: '%' } } } },
    cart: { ...base, logs: { command: [process.execPath, '-e', 'console.log("since=" + process.argv[1]); console.log("journal line 2")', '{{since}}'] } },
    search: { ...base, logs: { loki: { url: loki.url, query: '{app="shop"}' } } },
  };
  return `
clusters:
  api:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
admins: [local:root-admin]
services: ${JSON.stringify(services)}
`;
}

describe('logs and metrics', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createTestApp({ config: config(), env: { LOG_TOKEN: SECRET } });
  });
  afterEach(() => app.cleanup());

  it('tails a log file with --grep, redacts secrets and attaches long output', async () => {
    const r = await say(app, 'logs shop --lines 100 --grep error');
    expect(r.outcome).toBe('ok');
    const lines = (r.data as { lines: string[] }).lines;
    expect(lines).toHaveLength(30);
    expect(lines.at(-1)).toBe('line 290 ERROR boom token=***');
    expect(JSON.stringify(r)).not.toContain(SECRET);
    const all = await say(app, 'logs shop --lines 250');
    expect((all.data as { lines: string[] }).lines).toHaveLength(250);
    expect(attachmentBytes(all.attachments![0]!).toString().split('\n')).toHaveLength(250);
  });

  it('runs a log command as argv with {{since}} filled in', async () => {
    const r = await say(app, 'logs cart --since 2h');
    const lines = (r.data as { lines: string[] }).lines;
    expect(lines[0]).toMatch(/^since=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(lines[1]).toBe('journal line 2');
  });

  it('reads Loki query_range and merges streams oldest first', async () => {
    const r = await say(app, 'logs search --lines 10');
    expect((r.data as { lines: string[] }).lines).toEqual(['first from loki {app="shop"}', 'middle from loki', 'second from loki']);
    expect(loki.requests[0]!.url).toContain('direction=backward');
  });

  it('charts a Prometheus query_range as a PNG with min/avg/max/last', async () => {
    const r = await say(app, 'metrics shop cpu --since 6h');
    expect(r.outcome).toBe('ok');
    expect(r.text).toMatch(/^min -?[\d.]+ % · avg [\d.]+ % · max [\d.]+ % · last [\d.]+ %$/);
    const png = attachmentBytes(r.attachments![0]!);
    expect(r.attachments![0]!.contentType).toBe('image/png');
    const { width, height, channels, pixels } = decodePng(png);
    expect([width, height]).toEqual([800, 360]);
    // Not blank: the line is drawn in colour across the plot.
    let coloured = 0;
    for (let i = 0; i < pixels.length; i += channels) if (Math.abs(pixels[i]! - pixels[i + 2]!) > 60) coloured++;
    expect(coloured).toBeGreaterThan(500);
    const q = new URL(prom.requests[0]!.url, 'http://x').searchParams;
    expect(q.get('query')).toBe('rate(cpu_seconds_total{app="shop"}[5m]) * 100');
    expect(Number(q.get('end')) - Number(q.get('start'))).toBe(6 * 3600);
  });

  it('names what is wrong: an unknown metric or target, a cluster without checks', async () => {
    expect((await say(app, 'metrics shop memory')).text).toContain('has no metric "memory"; it has latency, cpu');
    expect((await say(app, 'metrics nope')).text).toContain('No service or cluster named "nope"');
    expect((await say(app, 'metrics api latency')).text).toContain('api has no health checks');
  });
});
