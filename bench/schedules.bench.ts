/**
 * Schedules bench: (1) what a schedule firing costs next to the same command typed — N schedules due at once,
 * fired by one runner round (each: due query, pipeline, firing row, outbox post, all in the firing's
 * transaction), against N typed invocations of the same command through the same pipeline, in this run;
 * (2) the summary chart: SVG → PNG with resvg, p50/p95 per chart and its size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { configSchema } from '../src/config/config-schema.js';
import { renderSummaryChart } from '../src/framework/render/render-summary-chart.js';
import { fmt, line, summarize } from './stats.js';

const silent = pino({ level: 'error' }, pino.destination('/dev/null'));
const config = configSchema.parse({ clusters: { api: { rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 } } }, admins: ['local:bench'] });

async function firingVersusTyped(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'infrabot-bench-'));
  let now = Date.parse('2026-11-21T01:00:00.000Z');
  const app = await createApp({ config, dataDir: join(dir, 'data'), keyDir: join(dir, 'keys'), env: {}, log: silent, clock: { now: () => new Date(now) } });
  const user = { id: 'local:bench', displayName: 'bench' };
  const command = (i: number) => `ratelimit set api --per-minute ${100 + (i % 400)}`;
  for (let i = 0; i < n; i++) await app.pipeline.handle({ id: `add${i}`, platform: 'cli', user, text: `schedule add "daily 02:00" "${command(i)}"` });
  now = Date.parse('2026-11-21T02:00:00.000Z');
  const t0 = performance.now();
  const fired = await app.schedules!.tick();
  const firingMs = performance.now() - t0;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) await app.pipeline.handle({ id: `typed${i}`, platform: 'cli', user, text: command(i) });
  const typedMs = performance.now() - t1;
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  return { fired, perFiring: firingMs / n, perTyped: typedMs / n };
}

const r = await firingVersusTyped(500);
line('schedule firings (500 due in one round)', `${fmt(r.perFiring)} each (${r.fired} fired)`);
line('same command typed, one after another (peer)', `${fmt(r.perTyped)} each`);
line('firing cost / typed cost', `${(r.perFiring / r.perTyped).toFixed(2)}×`);

const buckets = Array.from({ length: 24 }, (_, i) => ({ start: new Date(Date.UTC(2026, 10, 21, i)).toISOString(), alerts: (i * 7) % 11 }));
const samples: number[] = [];
let size = 0;
for (let i = 0; i < 60; i++) {
  const t = performance.now();
  size = renderSummaryChart({ buckets, bucketMs: 3_600_000 }, 'Alerts fired per hour · last 24h').length;
  samples.push(performance.now() - t);
}
const s = summarize(samples.slice(10));
line('summary chart 600×200 PNG (resvg)', `p50 ${fmt(s.p50)} p95 ${fmt(s.p95)}, ${(size / 1024).toFixed(1)} KB`);
