import { afterEach, describe, expect, it } from 'vitest';
import { oneCheckApp } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const setup = () => oneCheckApp(cleanups, 'incident: { sev: 2 }');

describe('checks of a cluster switched off on purpose', () => {
  it('do not page: the alert says "expected: api disabled by <user> at <time>", opens no incident and sends no reminders', async () => {
    const h = await setup();
    await h.round(2);
    const reply = await h.app.run('cluster disable api --reason "planned migration"', { confirmed: true });
    expect(reply.outcome).toBe('ok');
    h.svc.break(); // its guard now refuses traffic, so its health check fails
    await h.round(3);
    const [post] = h.sink.posts();
    expect(post!.reply.title).toMatch(/api-http is DOWN: HTTP 503 \(expected 200\) \(expected: api disabled by local:root-admin at 2026-11-21 03:00Z\)/);
    expect(post!.reply.severity).toBe('warning');
    expect(JSON.stringify(await h.app.run('incident list'))).not.toMatch(/api-http is DOWN/);
    expect(h.sink.posts().map((p) => p.reply.title)).not.toContainEqual(expect.stringContaining('INC-'));
    await h.round(100, 60_000); // well past the reminder interval
    expect(h.sink.calls.filter((c) => c.reply.title?.startsWith('⏰'))).toHaveLength(0);
  });

  it('page as usual when the cluster is enabled', async () => {
    const h = await setup();
    await h.round(2);
    h.svc.break();
    await h.round(3);
    expect(h.sink.posts()[0]!.reply.title).toContain('INC-1'); // an incident opens, as it pages
    expect(h.sink.posts()[0]!.reply.title).not.toContain("expected:");
  });
});
