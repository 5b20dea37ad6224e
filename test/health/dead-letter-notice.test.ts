import { afterEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const HOUR = 3_600_000;

describe('dead-lettered notifications', () => {
  it('are announced once in the admins\' channel, not only logged', async () => {
    const svc = await fakeService();
    // Alerts go to Slack, which no process here serves; the admins read the console.
    const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', svc.url)]), 'alerts: { defaultChannels: { slack: CALERTS }, adminChannels: { console: ops } }'));
    cleanups.push(async () => {
      await h.app.cleanup();
      await svc.close();
    });
    svc.break();
    await h.round(3);
    expect(h.sink.calls).toHaveLength(0);
    h.clock.advance(25 * HOUR);
    await h.round();
    const notices = () => h.sink.posts().filter((p) => p.reply.title.includes('given up'));
    expect(notices()).toHaveLength(1);
    expect(notices()[0]!).toMatchObject({ channel: 'ops', reply: { severity: 'critical', title: '📭 A notification could not be delivered and was given up' } });
    expect(notices()[0]!.reply.text).toContain('To slack:CALERTS');
    // Later rounds (and later compactions) do not repeat it.
    h.clock.advance(2 * HOUR);
    await h.round(3);
    expect(notices()).toHaveLength(1);
  });
});
