import { inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/framework/reply.js';
import type { Alert, CheckResult, Incident } from '../../src/store/health-store.js';
import { createTestApp, manualClock, type TestApp } from '../helpers/test-app.js';
import { BASE_CONFIG, cluster, httpCheck } from '../health/health-helpers.js';
import { posts } from './schedule-helpers.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

const NOW = '2026-11-21T12:00:00.000Z';
const ago = (h: number) => new Date(Date.parse(NOW) - h * 3_600_000).toISOString();

async function seeded() {
  const clock = manualClock(ago(30));
  const config = BASE_CONFIG([cluster('api', [httpCheck('api-http', 'http://127.0.0.1:9/')]), cluster('web', [httpCheck('web-http', 'http://127.0.0.1:9/')])].join('\n'));
  app = await createTestApp({ clock, config });
  const h = app.health!.health;
  const results: CheckResult[] = [];
  for (let i = 0; i < 100; i++) {
    results.push({ check: 'api-http', at: ago(20 - i * 0.1), ok: i % 20 !== 0, latencyMs: 12 }); // 95 of 100 ok
    results.push({ check: 'web-http', at: ago(20 - i * 0.1), ok: true, latencyMs: 8 });
  }
  results.push({ check: 'api-http', at: ago(28), ok: false, latencyMs: 0 }); // before the period
  const alert = (id: string, firedH: number, resolvedH?: number): Alert => ({
    id, dedupKey: `down:${id}`, kind: 'down', cluster: 'api', check: 'api-http', severity: 'critical', status: resolvedH ? 'resolved' : 'firing',
    summary: 'api-http is DOWN', firedAt: ago(firedH), ...(resolvedH ? { resolvedAt: ago(resolvedH) } : {}), reminders: 0,
  });
  const alerts = [alert('a1', 20, 19), alert('a2', 10, 9), alert('a3', 2), alert('a0', 28, 27)];
  const incident = (id: number, declaredH: number, ackMin?: number, resolvedMin?: number): Incident => ({
    id, title: `incident ${id}`, sev: 2, cluster: 'api', status: resolvedMin ? 'resolved' : ackMin ? 'acknowledged' : 'open', declaredAt: ago(declaredH), declaredBy: 'local:alice',
    ...(ackMin ? { ackedAt: new Date(Date.parse(ago(declaredH)) + ackMin * 60_000).toISOString() } : {}),
    ...(resolvedMin ? { resolvedAt: new Date(Date.parse(ago(declaredH)) + resolvedMin * 60_000).toISOString() } : {}),
    lastUpdateAt: ago(declaredH),
  });
  await h.commit(
    {
      results,
      alerts,
      alertEvents: [
        { alertId: 'a1', at: ago(19), cluster: 'api', type: 'resolved', actor: 'system', detail: '' },
        { alertId: 'a2', at: ago(9), cluster: 'api', type: 'resolved', actor: 'system', detail: '' },
        { alertId: 'a0', at: ago(27), cluster: 'api', type: 'resolved', actor: 'system', detail: '' },
      ],
      declared: [incident(1, 10, 5, 42), incident(2, 2, 15), incident(3, 28, 1, 10)],
    },
    ago(1),
  );
  clock.set(ago(5));
  await app.run('cluster disable web --reason "bad deploy"', { as: 'local:root-admin', confirmed: true });
  clock.set(ago(4));
  await app.run('cluster enable web');
  clock.set(NOW);
  return { app, clock };
}

/** Width, height and how varied the decoded pixel stream is (a blank image is one colour). */
function inspectPng(png: Buffer) {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    if (png.toString('latin1', off + 4, off + 8) === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const colours = new Set<number>();
  const stride = 1 + width * 4;
  // Unfiltered value of a pixel row only matters as "varied or not": count distinct bytes after the filter byte.
  for (let y = 0; y < height; y++) for (let i = 1; i < stride; i++) colours.add(raw[y * stride + i]!);
  return { width, height, distinct: colours.size };
}

const chartOf = (r: Reply) => Buffer.from(r.attachments![0]!.content, 'base64');

describe('summary', () => {
  it('computes uptime, alerts, incidents with MTTA/MTTR and control changes from the stored history, headline first', async () => {
    const { app } = await seeded();
    const r = await app.run('summary --since 24h');
    expect(r.outcome).toBe('ok');
    expect(r.text).toBe('Uptime 97.50% · 3 alerts fired, 2 resolved · 2 incidents opened, 1 resolved · 2 control changes');
    const field = (n: string) => r.fields!.find((f) => f.name.startsWith(n))!.value;
    expect(field('Uptime per cluster')).toBe('api: 95.00% (100 probes)\nweb: 100% (100 probes)');
    expect(field('Alerts')).toBe('3 fired · 2 resolved');
    expect(field('Incidents')).toBe('2 opened · 1 resolved\nMTTA 10m · MTTR 42m');
    expect(field('Control changes')).toBe('11-21 07:00 local:root-admin: disabled cluster web: bad deploy\n11-21 08:00 local:root-admin: enabled cluster web');
    expect(r.severity).toBe('warning'); // an incident is still open

    const png = chartOf(r);
    expect(r.attachments![0]).toMatchObject({ filename: 'summary-2026-11-21.png', contentType: 'image/png', encoding: 'base64' });
    const info = inspectPng(png);
    expect(info).toMatchObject({ width: 600, height: 200 });
    expect(png.length).toBeGreaterThan(2_000);
    expect(png.length).toBeLessThan(60_000);
    expect(info.distinct).toBeGreaterThan(20);
  });

  it('one cluster only with --cluster; a longer period counts per day', async () => {
    const { app } = await seeded();
    const r = await app.run('summary --since 7d --cluster web');
    expect(r.title).toBe('📊 Summary of web · last 7d');
    expect(r.text).toBe('Uptime 100% · 0 alerts fired, 0 resolved · 0 incidents opened, 0 resolved · 2 control changes');
    expect(inspectPng(chartOf(r))).toMatchObject({ width: 600, height: 200 });
  });

  it('refuses a bad period or cluster clearly', async () => {
    const { app } = await seeded();
    expect((await app.run('summary --since soon')).text).toContain('--since takes a duration up to 90d such as 24h or 7d, not "soon"');
    expect((await app.run('summary --cluster nope')).text).toContain('No cluster named "nope"');
  });

  it('a weekly summary is a schedule: it posts the summary with its chart to the channel', async () => {
    const { app, clock } = await seeded();
    await app.run('schedule add "weekly mon 09:00" "summary --since 7d" --tz Europe/Berlin --channel discord:1234567890');
    clock.set('2026-11-23T08:00:10.000Z'); // Monday 09:00 CET
    expect(await app.schedules!.tick()).toBe(1);
    const [post] = posts(app);
    expect(post).toMatchObject({ platform: 'discord', channel: '1234567890' });
    expect(post!.body.title).toContain('📊 Summary · last 7d');
    expect(post!.body.attachments?.[0]?.contentType).toBe('image/png');
    expect(inspectPng(chartOf(post!.body)).distinct).toBeGreaterThan(20);
  });
});

describe('summary posts from the config', () => {
  const withSummaries = (entries: string) =>
    BASE_CONFIG(cluster('api', [httpCheck('api-http', 'http://127.0.0.1:9/')]), `schedules:\n  summaries:\n${entries}`);

  it('posts a configured weekly summary to its channel as system, once per fire time, and follows config changes', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'infrabot-cfg-'));
    try {
      const clock = manualClock('2026-11-20T12:00:00.000Z');
      const weekly = '    - { channel: "discord:1234567890", every: weekly, day: mon, at: "09:00", timezone: Europe/Berlin }\n';
      const first = await createTestApp({ clock, dir, config: withSummaries(weekly) });
      const list = await first.run('schedule list');
      expect(list.table!.rows).toEqual([[expect.stringMatching(/^cfg-/), 'weekly summary', 'weekly mon 09:00 (Europe/Berlin)', 'summary --since 7d', 'system (config: schedules.summaries)', 'Mon 2026-11-23 09:00 CET', '']]);
      await first.close();
      // A second replica (or a restart) with the same config adds nothing.
      app = await createTestApp({ clock, dir, config: withSummaries(weekly) });
      expect((await app.run('schedule list')).table!.rows).toHaveLength(1);
      clock.set('2026-11-23T08:00:05.000Z');
      expect(await app.schedules!.tick()).toBe(1);
      const [post] = posts(app);
      expect(post).toMatchObject({ platform: 'discord', channel: '1234567890' });
      expect(post!.body.title).toBe('⏰ "weekly summary": 📊 Summary · last 7d');
      expect(post!.body.attachments?.[0]?.contentType).toBe('image/png');
      await app.close();
      // Changed in the config: the old post is removed, the new one added.
      app = await createTestApp({ clock, dir, config: withSummaries('    - { channel: "slack:C0OPS", every: daily, at: "08:30", cluster: api }\n') });
      expect((await app.run('schedule list')).table!.rows.map((r) => [r[1], r[2], r[3]])).toEqual([['daily summary of api', 'daily 08:30 (UTC)', 'summary --since 24h --cluster api']]);
    } finally {
      await app?.cleanup();
      app = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown cluster or a day on a daily summary in the config', async () => {
    const { parseConfig } = await import('../../src/config/load-config.js');
    expect(() => parseConfig(withSummaries('    - { channel: "slack:C1", every: daily, at: "08:30", cluster: nope, day: mon }\n'), 'x.yaml', {})).toThrow(
      /schedules\.summaries\.0\.cluster: no cluster named "nope"[\s\S]*schedules\.summaries\.0\.day: a daily summary has no day/,
    );
    expect(() => parseConfig(withSummaries('    - { channel: "C1", every: hourly, at: "8:30" }\n'), 'x.yaml', {})).toThrow(/channel: expected a platform-qualified channel[\s\S]*every[\s\S]*at: expected a time of day as HH:MM/);
  });
});
