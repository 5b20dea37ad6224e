import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/log.js';
import { createTestApp, logSink, TEST_CONFIG, type TestApp } from './helpers/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

describe('cluster-scoped users and listings', () => {
  it('shows a viewer on api and web the status of those clusters instead of denying', async () => {
    app = await createTestApp();
    await app.run('role grant local:vic viewer --cluster api');
    await app.run('role grant local:vic viewer --cluster web');
    const reply = await app.run('status', { as: 'local:vic' });
    expect(reply.outcome).toBe('ok');
    expect(reply.table!.rows.map((r) => r[0])).toEqual(['api', 'web']);
    expect(reply.text).toContain('the 2 you have a role on');
    const list = await app.run('ratelimit show', { as: 'local:vic' });
    expect(list.table!.rows.map((r) => r[0])).toEqual(['api', 'web']);
    expect((await app.run('alert list', { as: 'local:vic' })).outcome).toBe('ok');
    expect((await app.run('incident list', { as: 'local:vic' })).outcome).toBe('ok');
    expect((await app.run('silence list', { as: 'local:vic' })).outcome).toBe('ok');
    expect((await app.run('history global', { as: 'local:vic' })).outcome).toBe('ok');
    // A global viewer still sees every cluster.
    await app.run('role grant local:gus viewer');
    expect((await app.run('status', { as: 'local:gus' })).table!.rows.map((r) => r[0])).toEqual(['api', 'db', 'web']);
  });

  it('filters incidents and audit records to the clusters the user may see', async () => {
    app = await createTestApp();
    await app.run('role grant local:vic viewer --cluster api');
    await app.run('incident declare "api broken" --sev 3 --cluster api');
    await app.run('incident declare "db broken" --sev 3 --cluster db');
    await app.run('incident declare "somewhere" --sev 3');
    const inc = await app.run('incident list', { as: 'local:vic' });
    expect(inc.table!.rows.map((r) => r[4])).toEqual(['api broken']);
    const audit = await app.run('audit', { as: 'local:vic' });
    expect(audit.outcome).toBe('ok');
    expect(audit.table!.rows.some((r) => r[3]!.includes('db broken'))).toBe(false);
    expect(audit.table!.rows.some((r) => r[3]!.includes('api broken'))).toBe(true);
  });

  it('denials name the role and the scope needed, and what the user holds', async () => {
    app = await createTestApp();
    await app.run('role grant local:vic viewer --cluster api');
    const nobody = await app.run('status', { as: 'local:nobody' });
    expect(nobody.outcome).toBe('denied');
    expect(nobody.text).toContain('This needs the viewer role globally or on at least one cluster; you have no role');
    const ks = await app.run('killswitch on --reason "not allowed" --yes', { as: 'local:vic' });
    expect(ks.text).toContain('This needs the admin role globally; you are viewer on api only');
    const web = await app.run('cluster disable web --reason "no rights" --yes', { as: 'local:vic' });
    expect(web.text).toContain('This needs the operator role on cluster "web" (or globally); you are viewer on api only');
  });
});

describe('status while the kill-switch is on', () => {
  it('leads with the effective state: every cluster refuses traffic', async () => {
    app = await createTestApp();
    expect((await app.run('killswitch on --reason "stop everything" --yes')).outcome).toBe('ok');
    const reply = await app.run('status');
    expect(reply.title).toBe('🛑 Kill-switch ON: all traffic refused');
    expect(reply.severity).toBe('critical');
    expect(reply.text).not.toContain('enabled with closed breakers');
    expect(reply.text).toContain('All 3 clusters refuse traffic');
    for (const row of reply.table!.rows) expect(row[1]).toMatch(/^⛔ refused \(kill-switch/);
    const one = await app.run('status api');
    expect(one.title).toContain('traffic refused by the kill-switch');
    expect(one.fields![0]!.value).toMatch(/^⛔ refused/);
  });
});

describe("the local OS user's admin role", () => {
  it('is described the same way by role list, role revoke and whoami', async () => {
    const logs = logSink();
    const dir = (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'infrabot-os-'));
    const local = await createApp({
      config: parseConfig(TEST_CONFIG, 'test.yaml', {}),
      dataDir: dir,
      keyDir: `${dir}-keys`,
      env: {},
      log: createLogger({ level: 'debug', destination: logs.stream }),
      localAdmins: ['local:alice'],
    });
    try {
      const run = (text: string) => local.pipeline.handle({ id: text, platform: 'console', user: { id: 'local:alice', displayName: 'alice' }, text });
      const wording = 'admin as the local OS user running this console/CLI';
      const list = await run('role list');
      expect(list.table!.rows).toContainEqual(['local:alice', 'admin', 'global', expect.stringContaining(wording)]);
      expect(list.table!.rows).toContainEqual(['local:root-admin', 'admin', 'global', expect.stringContaining('admin from the config file')]);
      const revoke = await run('role revoke local:alice admin');
      expect(revoke.outcome).toBe('invalid');
      expect(revoke.text).toContain(`local:alice is ${wording}`);
      expect(revoke.text).not.toContain('does not have');
      const who = await run('whoami');
      expect(who.fields).toContainEqual(expect.objectContaining({ name: 'Global role', value: expect.stringContaining(wording) }));
    } finally {
      await local.close();
      (await import('node:fs')).rmSync(`${dir}-keys`, { recursive: true, force: true });
    }
  });
});
