import { afterEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck, recordingSink } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra = '', sink = recordingSink()) {
  const svc = await fakeService();
  const h = await healthApp(BASE_CONFIG([cluster('api', [httpCheck('api-http', svc.url)]), cluster('web', [])].join('\n'), extra), { sink });
  cleanups.push(async () => {
    await h.app.cleanup();
    await svc.close();
  });
  return { ...h, svc };
}

const HOUR = 3_600_000;

describe('alert history at scale and retention', () => {
  it('finds a notification\'s alerts however many alerts are in the history', async () => {
    const h = await setup();
    const insert = h.app.db!.prepare(`INSERT INTO alerts (id, dedup_key, cluster, check_name, status, fired_at, resolved_at, doc) VALUES (?, 'down:old', 'web', 'old', 'resolved', ?, ?, ?)`);
    const at = '2026-01-01T00:00:00.000Z';
    for (let i = 0; i < 1200; i++) {
      const id = `old${i}`;
      insert.run(id, at, at, JSON.stringify({ id, dedupKey: 'down:old', kind: 'down', cluster: 'web', check: 'old', severity: 'critical', status: 'resolved', summary: 'old', firedAt: at, resolvedAt: at, reminders: 0 }));
    }
    h.svc.break();
    await h.round(3);
    expect(h.sink.posts()[0]!.reply.title).toBe('🚨 api: api-http is DOWN: HTTP 503 (expected 200)');
    const [firing] = await h.app.health!.health.alerts({ status: 'firing' });
    expect((await h.app.run(`alert ack ${firing!.notificationId}`)).title).toBe('👀 Acknowledged 1 alert');
  });

  it('deletes resolved alerts, their events and messages, ended silences and expired buttons after historyRetention', async () => {
    const h = await setup('health: { historyRetention: 2d }');
    h.svc.break();
    await h.round(3);
    await h.app.run('silence web --for 1h --reason "old silence"');
    h.svc.heal();
    await h.round(2);
    const db = h.app.db!;
    const rows = (table: string) => db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
    expect(rows('alerts')).toBe(1);
    expect(rows('deliveries')).toBe(1);
    // Alert buttons get an expiry, so they can be deleted.
    expect(db.prepare("SELECT COUNT(*) FROM actions WHERE created_by = 'system' AND expires_at IS NULL").pluck().get()).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM actions WHERE created_by = 'system'").pluck().get()).toBeGreaterThan(0);

    h.clock.advance(3 * 24 * HOUR);
    // A new alert stays: only history older than the retention goes.
    h.svc.break();
    await h.round(3);
    for (const table of ['alert_events', 'notifications', 'deliveries']) expect(rows(table), table).toBeGreaterThan(0);
    const left = await h.app.health!.health.alerts({});
    expect(left.map((a) => a.status)).toEqual(['firing']);
    expect(rows('silences')).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM alert_events WHERE alert_id <> ?").pluck().get(left[0]!.id)).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM notifications WHERE id <> ?').pluck().get(left[0]!.notificationId)).toBe(0);
    expect(db.prepare('SELECT COUNT(*) FROM deliveries WHERE notification_id <> ?').pluck().get(left[0]!.notificationId)).toBe(0);
    expect(db.prepare("SELECT COUNT(*) FROM actions WHERE created_by = 'system' AND expires_at < ?").pluck().get(h.clock.now().toISOString())).toBe(0);
  });

  it('dead-letters undeliverable notifications after outboxMaxAge, not rawRetention, and logs them as errors', async () => {
    const sink = recordingSink();
    for (let i = 0; i < 1000; i++) sink.serverError();
    const h = await setup('health: { rawRetention: 1h }', sink);
    h.svc.break();
    await h.round(3);
    // The alert message written when it fired (later reminders are younger).
    const status = () => h.app.db!.prepare('SELECT status FROM outbox WHERE seq = 1').pluck().all();
    h.clock.advance(3 * HOUR);
    await h.round();
    expect(status()).toEqual(['pending']); // raw results are compacted, the outbox is not given up
    h.clock.advance(22 * HOUR);
    await h.round();
    expect(status()).toEqual(['dead']);
    const errors = h.app.logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 50);
    expect(errors.some((l) => l.msg.startsWith('notification given up'))).toBe(true);
  });
});
