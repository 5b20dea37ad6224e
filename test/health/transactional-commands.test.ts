import { afterEach, describe, expect, it } from 'vitest';
import { sql } from '../../src/store/db/sql.js';
import type { Incident } from '../../src/store/health-store.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const svc = await fakeService();
  const h = await healthApp(BASE_CONFIG([cluster('api', [httpCheck('api-http', svc.url)]), cluster('web', [])].join('\n')));
  cleanups.push(async () => {
    await h.app.cleanup();
    await svc.close();
  });
  return { ...h, svc };
}

const count = (h: Awaited<ReturnType<typeof setup>>, sql: string) => (h.app.db!.prepare(sql).pluck().get() as number);

describe('health commands commit with their audit record', () => {
  it('concurrent redeliveries of one `incident declare` create one incident, audited once', async () => {
    const h = await setup();
    const text = 'incident declare "Checkout errors" --sev 2 --cluster api';
    const replies = await Promise.all([h.app.run(text, { id: 'same-delivery' }), h.app.run(text, { id: 'same-delivery' })]);
    // Both answers are the one that committed; its number comes from the sequence (the dropped duplicate's
    // number is skipped, never reused).
    expect(replies[1]!.title).toBe(replies[0]!.title);
    const incidents = await h.app.health!.incidents.list({});
    expect(incidents).toHaveLength(1);
    expect(replies[0]!.title).toBe(`🔥 INC-${incidents[0]!.id} declared`);
    expect(count(h, "SELECT COUNT(*) FROM audit WHERE command = 'incident declare'")).toBe(1);
    expect(count(h, 'SELECT COUNT(*) FROM incident_timeline')).toBe(1);
    const next = await h.app.run('incident declare "Second one" --sev 3');
    expect(Number(/INC-(\d+)/.exec(next.title)![1])).toBeGreaterThan(incidents[0]!.id);
  });

  it('concurrent redeliveries of `alert ack`, `silence` and `health run` write once', async () => {
    const h = await setup();
    h.svc.break();
    await h.round(3);
    const [alert] = await h.app.health!.health.alerts({ status: 'firing' });
    const twice = (text: string, id: string) => Promise.all([h.app.run(text, { id }), h.app.run(text, { id })]);
    expect((await twice(`alert ack ${alert!.id}`, 'ack-1')).map((r) => r.outcome)).toEqual(['ok', 'ok']);
    await twice('silence api --for 1h --reason "known issue"', 'silence-1');
    const before = count(h, 'SELECT COUNT(*) FROM check_results');
    await twice('health run api-http', 'run-1');
    expect(count(h, "SELECT COUNT(*) FROM alert_events WHERE type = 'acked'")).toBe(1);
    expect(count(h, 'SELECT COUNT(*) FROM silences')).toBe(1);
    expect(count(h, 'SELECT COUNT(*) FROM check_results')).toBe(before + 1);
  });

  it('a command whose transaction fails leaves no health change behind', async () => {
    const h = await setup();
    // Another writer takes each number between our choice and our commit: the INSERT refuses to overwrite
    // their incident, the decision is made again, and when that keeps failing the whole command (audit
    // included) rolls back.
    const health = h.app.health!.health;
    const original = health.nextIncidentId.bind(health);
    health.nextIncidentId = async () => {
      const id = await original();
      const other: Incident = { id, title: 'Theirs', sev: 1, status: 'open', declaredAt: '2026-11-21T02:00:00.000Z', declaredBy: 'local:other', lastUpdateAt: '2026-11-21T02:00:00.000Z' };
      await health.db.run(sql`INSERT INTO incidents (id, status, cluster, declared_at, doc, version) VALUES (${id}, 'open', NULL, ${other.declaredAt}, ${JSON.stringify(other)}, 1)`);
      return id;
    };
    const r = await h.app.run('incident declare "Ours" --sev 2 --cluster api');
    expect(r.outcome).toBe('failed');
    expect(new Set((await health.incidents({})).map((i) => i.title))).toEqual(new Set(['Theirs']));
    expect(count(h, 'SELECT COUNT(*) FROM incident_timeline')).toBe(0);
    expect(count(h, 'SELECT COUNT(*) FROM notifications')).toBe(0);
    expect(count(h, "SELECT COUNT(*) FROM audit WHERE command = 'incident declare' AND outcome = 'ok'")).toBe(0);
  });

  it('buttons on an alert message still work (they run through the same pipeline)', async () => {
    const h = await setup();
    h.svc.break();
    await h.round(3);
    const ack = h.sink.posts()[0]!.reply.buttons!.find((b) => b.label === 'Acknowledge')!;
    const r = await h.app.pipeline.handleAction(ack.actionId, { id: 'click-1', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' } });
    expect(r.title).toBe('👀 Acknowledged 1 alert');
    await h.app.health!.deliverer.drain();
    expect(h.sink.updates().at(-1)!.reply.text).toContain('acked by local:root-admin');
  });
});
