import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestApp, TEST_CONFIG, type TestApp } from './helpers/test-app.js';
import { recordingSink } from './health/health-helpers.js';

let app: TestApp;
afterEach(async () => {
  vi.useRealTimers();
  await app?.cleanup();
});

describe('audit in chat', () => {
  it('posts each checkpoint to the audit channels through the durable outbox, and verify shows the hashes to compare', async () => {
    app = await createTestApp({ config: `${TEST_CONFIG}\naudit:\n  checkpoint: { records: 2 }\n  channels: { console: audit-log }\n` });
    const sink = recordingSink();
    app.health!.deliverer.addSink(sink.sink);
    await app.run('status');
    await app.run('whoami');
    await new Promise((r) => setTimeout(r, 50)); // the checkpoint is made in the background after the commit
    await app.health!.deliverer.drain();
    const [cp] = await app.store.checkpoints();
    expect(cp).toMatchObject({ seq: 1, lastId: 2 });
    expect(sink.posts()).toEqual([expect.objectContaining({ channel: 'audit-log', reply: expect.objectContaining({ text: expect.stringContaining(`hash ${cp!.hash}`) }) })]);
    const verify = await app.run('audit verify');
    expect(verify).toMatchObject({ title: '✅ Audit log intact', text: expect.stringContaining(`#1 ${cp!.hash.slice(0, 16)}…`) });
  });

  it('checkpoints every M minutes in a long-running process even when few records come in', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    app = await createTestApp({ config: `${TEST_CONFIG}\naudit:\n  checkpoint: { records: 1000, interval: 10m }\n` });
    app.audit.checkpointer.start();
    await app.run('status');
    vi.advanceTimersByTime(9 * 60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(await app.store.checkpoints()).toEqual([]);
    vi.advanceTimersByTime(60_000);
    await vi.waitFor(async () => expect(await app.store.checkpoints()).toMatchObject([{ seq: 1, lastId: 1 }]));
  });

  it('flags a role grant written straight into the stored state when a long-running bot starts, in the log and the audit channel', async () => {
    app = await createTestApp({ config: `${TEST_CONFIG}\naudit:\n  channels: { console: audit-log }\n` });
    const sink = recordingSink();
    app.health!.deliverer.addSink(sink.sink);
    await app.run('role grant local:otto operator --cluster api');
    expect(await app.audit.checkpointer.checkState()).toEqual([]);
    const { doc } = app.db!.prepare('SELECT doc FROM control_state').get() as { doc: string };
    app.db!.prepare('UPDATE control_state SET doc = ?').run(JSON.stringify({ ...JSON.parse(doc), grants: [...JSON.parse(doc).grants, { subject: 'local:mallory', role: 'admin' }] }));
    app.audit.checkpointer.start();
    await vi.waitFor(() => expect(app.logs.text()).toContain('stored control state differs from the replay of its events'));
    await app.health!.deliverer.drain();
    expect(sink.posts()).toEqual([
      expect.objectContaining({ channel: 'audit-log', reply: expect.objectContaining({ title: '⚠️ Stored control state differs from its events', text: expect.stringContaining('local:mallory') }) }),
    ]);
  });

  it('never signs a checkpoint over records someone edited since the last one', async () => {
    app = await createTestApp();
    await app.run('status');
    await app.audit.checkpointer.checkpoint();
    await app.run('whoami');
    await app.run('status');
    app.db!.prepare("UPDATE audit SET user_id = 'local:someone-else' WHERE id = 2").run();
    await expect(app.audit.checkpointer.checkpoint()).rejects.toThrow('audit record 2 fails: its contents do not match its hash');
    expect((await app.store.checkpoints()).length).toBe(1);
    expect(app.logs.text()).toContain('audit checkpoint failed');
  });

  it('attaches the compliance report as Markdown and CSV files, for admins of the cluster', async () => {
    app = await createTestApp();
    await app.run('role grant local:otto operator --cluster api');
    await app.run('cluster disable api --reason "bad deploy" --yes', { as: 'local:otto' });
    const denied = await app.run('audit report --cluster api', { as: 'local:otto' });
    expect(denied.outcome).toBe('denied');
    const r = await app.run('audit report --since 7d --cluster api');
    expect(r.outcome).toBe('ok');
    // The confirmed disable is a change too, and the grant on api is one of api's role changes.
    expect(r.text).toBe('1 changes, 1 dangerous actions and confirmations, 1 role changes, 0 refused or failed attempts, 1 denials. Full report attached (Markdown and CSV).');
    expect(r.attachments!.map((a) => [a.filename.replace(/\d{4}-\d\d-\d\d/g, 'D'), a.contentType])).toEqual([
      ['audit-report-D-D-api.md', 'text/markdown'],
      ['audit-report-D-D-api.csv', 'text/csv'],
    ]);
    expect(r.attachments![0]!.content).toContain('confirmed and run: Disabling cluster api makes it refuse all traffic.');
  });
});
