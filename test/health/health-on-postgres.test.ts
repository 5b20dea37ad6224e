import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresReachable, postgresSchema } from '../helpers/sql-backends.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const pgOk = await postgresReachable('health on PostgreSQL');

(pgOk ? describe : describe.skip)('health features on PostgreSQL (no SQLite store)', () => {
  it('probes, fires and notifies an alert, and `alert ack` commits with its audit record', async () => {
    const s = await postgresSchema();
    const client = new pg.Client({ connectionString: s.url });
    await client.connect();
    await client.query(`CREATE SCHEMA "${s.schema}"`);
    await client.end();
    const url = `${s.url}?options=${encodeURIComponent(`-c search_path=${s.schema}`)}`;
    const svc = await fakeService();
    const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)]), `storage: { url: "${url}" }`));
    cleanups.push(async () => {
      await h.app.cleanup();
      await svc.close();
      await s.drop();
    });
    expect(h.app.storeLocation?.backend).toBe('postgres');
    svc.break();
    await h.round(3);
    const [alert] = await h.app.health!.health.alerts({ status: 'firing' });
    expect(alert?.check).toBe('api-http');
    expect(h.sink.posts()[0]!.reply.title).toContain('api-http is DOWN');
    expect((await h.app.run(`alert ack ${alert!.id}`)).outcome).toBe('ok');
    expect((await h.app.health!.health.alert(alert!.id))!.ackedBy).toBe('local:root-admin');
    expect(await h.app.store.searchAudit({ command: 'alert ack', limit: 5 })).toHaveLength(1);
    const declared = await h.app.run('incident declare "Checkout errors" --sev 2 --cluster api');
    expect(declared.title).toMatch(/^🔥 INC-\d+ declared$/);
  });
});
