import { afterEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(checkExtra = '', extra = '') {
  const svc = await fakeService();
  const config = BASE_CONFIG(
    [cluster('api', [httpCheck('api-http', svc.url, checkExtra)]), cluster('web', [])].join('\n'),
    `incidents: { channels: { console: incidents }, updateEvery: { 1: 15m, 2: 30m, 3: 2h, 4: 1d } }\n${extra}`,
  );
  const h = await healthApp(config);
  cleanups.push(async () => {
    await h.app.cleanup();
    await svc.close();
  });
  return { ...h, svc };
}

describe('incidents', () => {
  it('runs the lifecycle with a thread of updates and a timeline of everything that happened', async () => {
    const h = await setup();
    const run = async (text: string, as = 'local:root-admin') => {
      const r = await h.app.run(text, { as });
      expect(r.outcome, `${text}: ${r.text}`).toBe('ok');
      await h.app.health!.deliverer.drain();
      return r;
    };
    await run('role grant local:alice operator');
    const declared = await run('incident declare "Checkout errors" --sev 2 --cluster api');
    expect(declared.title).toBe('🔥 INC-1 declared');
    const head = h.sink.posts().find((p) => p.channel === 'incidents')!;
    expect(head.reply.title).toBe('🔥 INC-1 [SEV2] Checkout errors · OPEN');

    h.clock.advance(60_000);
    await run('incident ack 1', 'local:alice');
    await run('incident assign 1 comms local:bob');
    h.clock.advance(60_000);
    await run('incident update 1 "rolling back v42"');
    await run('cluster disable api --reason "stop the bleeding" --yes');
    h.svc.break();
    await h.round(3); // api-http alert fires while the incident is open
    h.clock.advance(120_000);
    await run('incident mitigate 1');
    h.svc.heal();
    await h.round(2);
    await run('cluster enable api');
    h.clock.advance(60_000);
    const resolved = await run('incident resolve 1 --summary "bad deploy v42 rolled back"');
    expect(resolved.hint).toBe('incident postmortem 1');

    const thread = h.sink.threadReplies(head.messageId).map((t) => t.reply.title);
    expect(thread).toEqual([
      'Incident thread for INC-1: updates go here.',
      '👀 Acknowledged by local:alice',
      '👤 local:bob is now comms',
      '📝 rolling back v42',
      '🚨 Alert: api-http is DOWN: HTTP 503 (expected 200)',
      '🩹 Mitigated',
      '✅ Alert resolved: api-http is UP again',
      expect.stringMatching(/^✅ Resolved after 5m\d*s?: bad deploy v42 rolled back$/),
    ]);
    expect(h.sink.updates(head.messageId).at(-1)!.reply.title).toBe('✅ INC-1 [SEV2] Checkout errors · RESOLVED');

    const timeline = await h.app.run('incident timeline 1');
    const what = timeline.table!.rows.map((r) => `${r[1]} | ${r[2]}`);
    expect(what).toEqual([
      expect.stringMatching(/^local:root-admin \| declared SEV2: Checkout errors$/),
      'local:alice | acknowledged by local:alice (now commander)',
      'local:root-admin | comms is local:bob',
      'local:root-admin | rolling back v42',
      'local:root-admin | disabled cluster api: stop the bleeding',
      expect.stringMatching(/^system \| alert \w+ fired: api-http is DOWN: HTTP 503/),
      'local:root-admin | status → mitigated',
      expect.stringMatching(/^system \| alert \w+ resolved: api-http is UP again$/),
      'local:root-admin | enabled cluster api',
      'local:root-admin | status → resolved: bad deploy v42 rolled back',
    ]);

    const show = await h.app.run('incident show 1');
    expect(show.fields!.find((f) => f.name === 'Commander')!.value).toBe('local:alice');
    expect((await h.app.run('incident update 1 "late"')).outcome).toBe('invalid');
    expect((await h.app.run('incident reopen 1')).outcome).toBe('ok');
    expect((await h.app.run('incident list --open')).table!.rows.map((r) => r[0])).toEqual(['INC-1']);
  });

  it('writes a post-mortem with summary, impact, key times, timeline and sections to fill in', async () => {
    const h = await setup();
    await h.app.run('incident declare "Login failing" --sev 1 --cluster api');
    h.clock.advance(3 * 60_000);
    await h.app.run('incident ack 1');
    h.clock.advance(17 * 60_000);
    await h.app.run('incident update 1 "found the expired secret"');
    h.clock.advance(10 * 60_000);
    await h.app.run('incident resolve 1 --summary "rotated the OAuth client secret"');
    const pm = await h.app.run('incident postmortem 1');
    expect(pm.attachments).toHaveLength(1);
    const a = pm.attachments![0]!;
    expect(a.filename).toBe('INC-1-postmortem.md');
    expect(a.contentType).toBe('text/markdown');
    const md = a.content;
    expect(md).toContain('# Post-mortem: INC-1 Login failing');
    expect(md).toContain('## Summary\n\nrotated the OAuth client secret');
    expect(md).toContain('- Duration: 30m');
    expect(md).toContain('| Detected | 2026-11-21 03:00:00 UTC | 0s |');
    expect(md).toContain('| Acknowledged | 2026-11-21 03:03:00 UTC by local:root-admin | 3m |');
    expect(md).toContain('| Resolved | 2026-11-21 03:30:00 UTC | 30m |');
    expect(md).toContain('- 2026-11-21 03:20:00 UTC · local:root-admin · found the expired secret');
    expect(md).toContain('## Contributing factors');
    expect(md).toContain('## Follow-ups');
  });

  it('opens an incident automatically from a firing alert and reminds the commander to post updates', async () => {
    const h = await setup('incident: { sev: 1 }');
    h.svc.break();
    await h.round(3);
    const list = await h.app.run('incident list');
    expect(list.table!.rows).toEqual([['INC-1', 'SEV1', 'open', 'api', expect.stringContaining('api-http is DOWN'), '2026-11-21 03:00:30 UTC', '-']]);
    const head = h.sink.posts().find((p) => p.channel === 'incidents')!;
    expect(head).toBeDefined();
    await h.app.run('incident assign 1 commander local:carol');
    await h.round(6 * 15 - 1); // just under 15 min after the assignment
    const due = () => h.sink.threadReplies(head.messageId).filter((t) => t.reply.title.startsWith('⏰'));
    expect(due()).toHaveLength(0);
    await h.round(1);
    expect(due()).toHaveLength(1);
    expect(due()[0]!.reply.text).toContain('Commander local:carol');
    // A second failing check round does not open a second incident.
    expect((await h.app.run('incident list')).table!.rows).toHaveLength(1);
  });

  it('reports count, MTTA and MTTR per cluster and severity', async () => {
    const h = await setup();
    for (const [ack, res] of [[2, 10], [4, 30]] as const) {
      await h.app.run('incident declare "x happened" --sev 2 --cluster api');
      const id = (await h.app.health!.health.incidents({})).length;
      h.clock.advance(ack * 60_000);
      await h.app.run(`incident ack ${id}`);
      h.clock.advance((res - ack) * 60_000);
      await h.app.run(`incident resolve ${id} --summary "fixed it"`);
    }
    await h.app.run('incident declare "web slow" --sev 3 --cluster web');
    const stats = await h.app.run('incident stats --since 30d');
    expect(stats.title).toBe('Incidents in the last 30d: 3');
    expect(stats.table!.rows).toEqual([
      ['api', 'SEV2', '2', '3m', '20m'],
      ['web', 'SEV3', '1', '-', '-'],
    ]);
  });
});
