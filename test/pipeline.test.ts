import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let app: TestApp;
afterEach(async () => app?.cleanup());

describe('pipeline', () => {
  it('answers status for a viewer and refuses a user with no role', async () => {
    app = await createTestApp();
    await app.run('role grant local:vera viewer');
    const ok = await app.run('status', { as: 'local:vera' });
    expect(ok.outcome).toBe('ok');
    expect(ok.table?.rows.map((r) => r[0])).toEqual(['api', 'db', 'web']);
    const denied = await app.run('status', { as: 'local:nobody' });
    expect(denied.outcome).toBe('denied');
    expect(denied.visibility).toBe('ephemeral');
    expect(denied.text).toContain('needs the viewer role');
  });

  it('runs a redelivered invocation once and returns the same reply', async () => {
    app = await createTestApp();
    const first = await app.run('cluster disable api --reason "bad deploy" --yes', { id: 'dup-1' });
    const again = await app.run('cluster disable api --reason "bad deploy" --yes', { id: 'dup-1' });
    expect(first.outcome).toBe('ok');
    expect(again).toEqual(first);
    const audit = await app.store.searchAudit({ limit: 10 });
    expect(audit).toHaveLength(1);
    expect(await app.store.events({})).toHaveLength(1);
  });

  it('refuses a command naming an unknown cluster before asking for confirmation, and changes nothing', async () => {
    app = await createTestApp();
    for (const text of [
      'cluster disable nope --reason "bad deploy"',
      'cluster enable nope',
      'breaker trip nope --reason "timeouts"',
      'breaker reset nope',
      'ratelimit set nope --per-minute 10',
      'maintenance start nope --for 1h',
      'schedule add "daily 02:00" "cluster disable nope --reason \'bad deploy\'"',
    ]) {
      const reply = await app.run(text);
      expect(reply.outcome, text).toBe('invalid');
      expect(reply.buttons, text).toBeUndefined();
      expect(reply.error, text).toMatchObject({ code: 'infra_not_found' });
      expect(reply.text, text).toContain('No cluster named "nope"');
      expect(reply.hint, text).toBe('Known clusters: api, db, web');
    }
    expect(await app.store.events({})).toHaveLength(0);
    expect((await app.run('cluster disable api --reason "bad deploy"')).outcome).toBe('confirm');
  });
});
