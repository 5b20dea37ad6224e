import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let app: TestApp;
afterEach(async () => app?.cleanup());

const setup = async () => {
  app = await createTestApp();
  for (const cmd of [
    'role grant local:vera viewer',
    'role grant local:otto operator --cluster api',
    'role grant local:gina operator',
    'role grant local:ada admin',
    'role grant slack-group:S0ONCALL operator --cluster web',
  ]) {
    expect((await app.run(cmd)).outcome).toBe('ok');
  }
};

describe('role-based access', () => {
  it('lets each role do what it should and nothing more', async () => {
    await setup();
    const cases: [string, string, 'ok' | 'denied'][] = [
      ['local:nobody', 'status', 'denied'],
      ['local:nobody', 'whoami', 'ok'],
      ['local:nobody', 'help', 'ok'],
      ['local:vera', 'status', 'ok'],
      ['local:vera', 'audit --since 1h', 'ok'],
      ['local:vera', 'cluster enable api', 'denied'],
      ['local:vera', 'ratelimit set api --per-minute 10', 'denied'],
      ['local:otto', 'ratelimit set api --per-minute 10', 'ok'],
      ['local:otto', 'ratelimit set web --per-minute 10', 'denied'],
      ['local:otto', 'breaker reset api', 'ok'],
      ['local:otto', 'breaker trip web --yes', 'denied'],
      ['local:otto', 'killswitch on --reason "stop it all" --yes', 'denied'],
      ['local:otto', 'role grant local:eve admin', 'denied'],
      ['local:gina', 'cluster disable web --reason "any cluster" --yes', 'ok'],
      ['local:gina', 'killswitch on --reason "not an admin" --yes', 'denied'],
      ['local:gina', 'audit verify', 'denied'],
      ['local:ada', 'killswitch on --reason "admin may" --yes', 'ok'],
      ['local:ada', 'role grant local:eve viewer', 'ok'],
      ['local:ada', 'audit verify', 'ok'],
    ];
    for (const [user, text, expected] of cases) {
      const reply = await app.run(text, { as: user });
      expect(`${user}: ${text} → ${reply.outcome}`).toBe(`${user}: ${text} → ${expected}`);
    }
  });

  it('applies roles granted to a group the user belongs to', async () => {
    await setup();
    const asMember = { as: 'slack:U1', platform: 'slack' as const, groups: ['slack-group:S0ONCALL'] };
    expect((await app.run('ratelimit set web --per-minute 10', asMember)).outcome).toBe('ok');
    expect((await app.run('ratelimit set api --per-minute 10', asMember)).outcome).toBe('denied');
    expect((await app.run('ratelimit set web --per-minute 10', { as: 'slack:U2', platform: 'slack' })).outcome).toBe('denied');
  });

  it('says which role is needed where, and audits the denial', async () => {
    await setup();
    const reply = await app.run('cluster disable web --reason "no rights" --yes', { as: 'local:otto' });
    expect(reply.text).toContain('This needs the operator role on cluster "web" (or globally); you are operator on api only');
    expect(reply.text).toContain('role grant local:otto operator --cluster web');
    const [record] = await app.store.searchAudit({ userId: 'local:otto', limit: 1 });
    expect(record).toMatchObject({ outcome: 'denied', command: 'cluster disable', cluster: 'web' });
    expect((await app.engine.state()).clusters.web!.enabled).toBe(true);
  });

  it('checks permission before asking for confirmation', async () => {
    await setup();
    const reply = await app.run('cluster disable web --reason "no rights"', { as: 'local:vera' });
    expect(reply.outcome).toBe('denied');
    expect(reply.buttons).toBeUndefined();
  });

  it('takes roles away on revoke and refuses to revoke config admins', async () => {
    await setup();
    expect((await app.run('role revoke local:otto operator --cluster api')).outcome).toBe('ok');
    expect((await app.run('ratelimit set api --per-minute 10', { as: 'local:otto' })).outcome).toBe('denied');
    const refused = await app.run('role revoke local:root-admin admin');
    expect(refused.outcome).toBe('invalid');
    expect(refused.text).toContain('admin from the config file');
  });

  it('refuses grants to subjects nobody can be, saying what an id looks like', async () => {
    app = await createTestApp();
    await app.run('role grant slack:UADMIN admin');
    const bare = await app.run('role grant bob operator', { as: 'slack:UADMIN', platform: 'slack' });
    expect(bare).toMatchObject({ outcome: 'invalid', text: expect.stringContaining('"slack:bob" is not a Slack user id') });
    expect((await app.run('role grant "two words" viewer')).text).toContain('"local:two words" is not a local user name');
    expect((await app.run('role grant teams:U1 viewer')).text).toContain('names no known platform');
    expect(await app.run('role grant Slack:U0ABC viewer')).toMatchObject({ outcome: 'ok', title: 'Granted viewer to slack:U0ABC globally' });
    expect((await app.engine.state()).grants.map((g) => g.subject)).toEqual(['slack:UADMIN', 'slack:U0ABC']);
  });

  it('whoami shows global and per-cluster roles', async () => {
    await setup();
    const reply = await app.run('whoami', { as: 'local:otto' });
    expect(reply.fields).toEqual(expect.arrayContaining([
      { name: 'Global role', value: 'none', inline: true },
      { name: 'Cluster roles', value: 'api: operator' },
    ]));
  });
});
