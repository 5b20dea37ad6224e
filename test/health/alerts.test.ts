import { afterEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck, type HealthTestApp } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(n = 1, extra = '') {
  const services = await Promise.all(Array.from({ length: n }, () => fakeService()));
  const other = await fakeService();
  const config = BASE_CONFIG(
    [
      cluster('api', services.map((s, i) => httpCheck(`api-${i + 1}`, s.url))),
      cluster('web', [httpCheck('web-1', other.url)]),
    ].join('\n'),
    extra,
  );
  const h = await healthApp(config);
  cleanups.push(async () => {
    await h.app.cleanup();
    await Promise.all([...services, other].map((s) => s.close()));
  });
  return { ...h, services, other };
}

const titles = (h: HealthTestApp) => h.sink.posts().map((p) => p.reply.title);

describe('alerts', () => {
  it('fires only after the failure threshold and resolves only after the success threshold', async () => {
    const h = await setup();
    await h.round(2); // two healthy probes: UP
    h.services[0]!.break();
    await h.round(2);
    expect(h.sink.calls).toHaveLength(0); // 2 failures < threshold 3
    await h.round();
    expect(titles(h)).toEqual([expect.stringContaining('api-1 is DOWN: HTTP 503')]);
    expect(h.sink.posts()[0]!.reply.severity).toBe('critical');

    await h.round(3); // still failing: deduplicated, no new message
    expect(h.sink.posts()).toHaveLength(1);

    h.services[0]!.heal();
    await h.round();
    expect(h.sink.updates()).toHaveLength(0); // 1 success < threshold 2
    h.services[0]!.break();
    await h.round();
    h.services[0]!.heal();
    await h.round();
    expect(h.sink.updates()).toHaveLength(0); // the streak was broken
    await h.round();
    expect(h.sink.posts()).toHaveLength(1);
    expect(h.sink.updates()).toHaveLength(1);
  });

  it('updates the original message in place on resolve and posts the resolution in its thread', async () => {
    const h = await setup();
    h.services[0]!.break();
    await h.round(3);
    const [alert] = h.sink.posts();
    expect(alert!.reply.title).toContain('DOWN');
    expect(alert!.reply.buttons?.map((b) => b.label)).toEqual(['Acknowledge', 'Silence 1h', 'Resolve']);
    h.services[0]!.heal();
    await h.round(2);
    const updates = h.sink.updates(alert!.messageId);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.reply.title).toContain('RESOLVED');
    expect(updates[0]!.reply.severity).toBe('success');
    expect(updates[0]!.reply.buttons ?? []).toHaveLength(0);
    const thread = h.sink.threadReplies(alert!.messageId);
    expect(thread.map((t) => t.reply.title)).toEqual([expect.stringContaining('Resolved: api-1 is UP again')]);
    expect(thread[0]!.reply.text).toContain('api-1 was DOWN for 20s, now UP again');
    expect(h.sink.posts()).toHaveLength(1);
  });

  it('groups simultaneous failures of one cluster into one notification and keeps other clusters apart', async () => {
    const h = await setup(3);
    for (const s of h.services) s.break();
    h.other.break();
    await h.round(3);
    const posts = h.sink.posts();
    expect(posts).toHaveLength(2);
    const api = posts.find((p) => p.reply.title.includes('api'))!;
    // The first failure posts at once; the others join the same message within the grouping window.
    const latest = [api, ...h.sink.updates(api.messageId)].at(-1)!;
    expect(latest.reply.title).toContain('api: 3 checks failing');
    for (const name of ['api-1', 'api-2', 'api-3']) expect(latest.reply.text).toContain(`${name} is DOWN`);
    expect(posts.find((p) => p.reply.title.includes('web'))!.reply.text).not.toContain('api-');
    const firing = await h.app.run('alert list');
    expect(firing.table?.rows).toHaveLength(4);
  });

  it('shows one id per alert, the same in the text and in the suggested commands, and takes it as typed', async () => {
    const h = await setup(2);
    for (const s of h.services) s.break();
    await h.round(3);
    const api = h.sink.posts()[0]!;
    const latest = [api, ...h.sink.updates(api.messageId)].at(-1)!;
    const shown = [...latest.reply.text!.matchAll(/· alert (\w+)/g)].map((m) => m[1]!);
    expect(shown).toHaveLength(2);
    const listed = (await h.app.run('alert list')).table!.rows.map((r) => r[0]);
    expect(listed.sort()).toEqual([...shown].sort());
    // Every id in the suggested commands is one of the alert ids above: no second (notification) id.
    const hinted = [...latest.reply.hint!.matchAll(/(?:alert ack|alert resolve|from alert) ([\w ]+?)\s*(?:\||"|$)/g)].flatMap((m) => m[1]!.split(' '));
    expect(hinted.length).toBe(5);
    for (const w of hinted) expect(shown, w).toContain(w);
    expect(latest.reply.hint).toContain(`alert ack ${shown.join(' ')}`);
    const acked = await h.app.run(`alert ack ${shown.join(' ').toUpperCase()}`);
    expect(acked.title).toBe('👀 Acknowledged 2 alerts');
    await h.app.health!.deliverer.drain();
    expect(h.sink.threadReplies(api.messageId).filter((t) => t.reply.title.startsWith('👀 Acknowledged'))).toHaveLength(1); // one message, one note
    const both = await h.app.run(latest.reply.hint!.split('|').at(-1)!.trim());
    expect(both.title).toBe('✅ Resolved 2 alerts by hand');
  });

  it('a failure after the grouping window gets a message of its own', async () => {
    const h = await setup(2, 'alerts: { groupWindow: 15s }');
    h.services[0]!.break();
    await h.round(3);
    await h.round(3); // 30 s later
    h.services[1]!.break();
    await h.round(3);
    expect(h.sink.posts()).toHaveLength(2);
  });

  it('acknowledging through the alert button is audited and marks the message', async () => {
    const h = await setup();
    h.services[0]!.break();
    await h.round(3);
    const post = h.sink.posts()[0]!;
    const ack = post.reply.buttons!.find((b) => b.label === 'Acknowledge')!;
    const reply = await h.app.pipeline.handleAction(ack.actionId, { id: 'click-1', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' } });
    expect(reply.outcome).toBe('ok');
    expect(reply.title).toContain('Acknowledged 1 alert');
    await h.app.health!.deliverer.drain();
    const last = h.sink.updates(post.messageId).at(-1)!;
    expect(last.reply.text).toContain('acked by local:root-admin');
    expect(h.sink.threadReplies(post.messageId).map((t) => t.reply.title)).toContain('👀 Acknowledged by local:root-admin');
    const audit = await h.app.store.searchAudit({ command: 'alert', limit: 5 });
    expect(audit[0]!.command).toBe('alert ack');
    expect(post.reply.hint).toContain('alert ack');
  });

  it('routes by cluster and severity to channels per platform', async () => {
    const routes = `alerts:
  routes:
    - { clusters: [api], severities: [critical], channels: { console: api-oncall, slack: "#api" } }
    - { severities: [warning], channels: { console: warnings } }
  defaultChannels: { console: everything-else }`;
    const h = await setup(1, routes);
    h.services[0]!.break();
    h.other.break();
    await h.round(3);
    expect(h.sink.posts().map((p) => p.channel).sort()).toEqual(['api-oncall', 'everything-else']);
    // The slack target waits in the outbox for a process with a Slack sink.
    expect((await h.app.health!.health.pendingOutbox()).count).toBeGreaterThan(0);
  });
});
