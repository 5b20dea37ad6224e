import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attachmentBytes } from '../../src/framework/reply.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/redis.js';
import { finished, json, loopback, nodeArgv, recordingSink, runIdOf, say } from './fixtures.js';

const SECRET = 'tok-9f8e7d6c5b4a';

/** A config with one service whose runbooks use exec, http, wait_healthy, approve and analysis steps. */
function config(urls: { deploy: string; prom: string; github: string; health: string }, extra = '') {
  const svc = {
    cluster: 'api',
    envs: ['production', 'staging'],
    checks: ['shop-http'],
    secrets: ['DEPLOY_TOKEN'],
    params: { note: { pattern: '.*', default: 'none' } },
    runbooks: {
      deploy: {
        steps: [
          { name: 'build', type: 'exec', argv: nodeArgv('console.log("deploying " + process.argv[1] + " token " + process.env.DEPLOY_TOKEN)', '{{version}}'), env: { DEPLOY_TOKEN: '{{env.DEPLOY_TOKEN}}' } },
          { name: 'notify', type: 'http', url: `${urls.deploy}/hooks/deploy`, body: { version: '{{version}}', env: '{{env}}' }, hmac: { header: 'X-Signature', secretEnv: 'HOOK_SECRET' } },
          { name: 'healthy', type: 'wait_healthy', for: '200ms', timeout: '5s' },
        ],
      },
      rollback: { steps: [{ name: 'revert', type: 'exec', argv: nodeArgv('console.log("rolled back to " + process.argv[1])', '{{version}}') }] },
      canary: {
        onFailure: 'rollback',
        steps: [
          { name: 'canary', type: 'exec', argv: nodeArgv('console.log("canary " + process.argv[1])', '{{version}}') },
          { name: 'analysis', type: 'analysis', prometheus: { url: urls.prom, query: 'error_rate{service="shop"}' }, successCondition: 'result < 0.05', interval: '50ms', count: 3, failureLimit: 1 },
        ],
      },
      test: { steps: [{ type: 'exec', argv: nodeArgv('console.log("smoke ok")') }] },
      echo: { steps: [{ type: 'exec', argv: nodeArgv('console.log(JSON.stringify(process.argv.slice(1)))', '{{note}}') }] },
      slow: { steps: [{ type: 'exec', argv: nodeArgv('setTimeout(() => {}, 60000)'), timeout: '300ms' }] },
      hang: { steps: [{ type: 'exec', argv: nodeArgv('console.log("started"); setTimeout(() => {}, 60000)') }] },
      gated: { steps: [{ type: 'approve', role: 'operator', expires: '10s' }, { type: 'exec', argv: nodeArgv('console.log("went ahead")') }] },
      gha: {
        steps: [
          {
            name: 'workflow',
            type: 'http',
            url: `${urls.github}/repos/acme/shop/actions/workflows/deploy.yml/dispatches`,
            headers: { authorization: 'Bearer {{env.DEPLOY_TOKEN}}' },
            body: { ref: 'main', inputs: { version: '{{version}}' }, return_run_details: true },
            expectStatus: [200],
            followGithubRun: { interval: '50ms', timeout: '10s' },
          },
        ],
      },
    },
  };
  return `
clusters:
  api:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
    checks:
      - { name: shop-http, type: http, url: "${urls.health}/healthz", successThreshold: 1 }
  web:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
admins: [local:root-admin]
runbooks: { poll: 50ms }
services:
  shop: ${JSON.stringify(svc)}
${extra}`;
}

let deploy: Awaited<ReturnType<typeof loopback>>;
let prom: Awaited<ReturnType<typeof loopback>>;
let github: Awaited<ReturnType<typeof loopback>>;
let errorRate = 0.01;
let githubPolls = 0;

beforeAll(async () => {
  deploy = await loopback((r, res) => (r.url === '/healthz' ? json(res, 200, { ok: true }) : json(res, 200, { accepted: true })));
  prom = await loopback((_r, res) => json(res, 200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, String(errorRate)] }] } }));
  github = await loopback((r, res) => {
    if (r.method === 'POST') return json(res, 200, { workflow_run_id: 42, run_url: `${github.url}/repos/acme/shop/actions/runs/42`, html_url: 'https://github.com/acme/shop/actions/runs/42' });
    githubPolls++;
    return json(res, 200, githubPolls < 3 ? { status: 'in_progress', conclusion: null } : { status: 'completed', conclusion: 'success' });
  });
});
afterAll(async () => {
  await Promise.all([deploy.close(), prom.close(), github.close()]);
});

describe('runbooks in-process (no Redis)', () => {
  let app: TestApp;
  let chat: ReturnType<typeof recordingSink>;
  beforeEach(async () => {
    errorRate = 0.01;
    githubPolls = 0;
    deploy.requests.length = 0;
    app = await createTestApp({
      config: config({ deploy: deploy.url, prom: prom.url, github: github.url, health: deploy.url }),
      env: { DEPLOY_TOKEN: SECRET, HOOK_SECRET: 'hook-secret-1234', PATH: process.env.PATH },
    });
    chat = recordingSink();
    app.runbooks.messenger.addSink(chat.sink);
    await app.health!.runCheck('shop-http');
    await say(app, 'role grant local:olga operator');
    await say(app, 'role grant local:bob operator');
  });
  afterEach(async () => {
    await app.cleanup();
  });

  it('deploys with exec, a signed http call and wait_healthy, editing one chat message as steps run', async () => {
    const reply = await say(app, 'deploy shop 1.4.2', { as: 'local:olga' });
    expect(reply.outcome).toBe('ok');
    expect(reply.title).toContain('deploy shop 1.4.2 → production');
    expect(reply.buttons?.[0]?.label).toBe('Cancel');
    const run = await finished(app, runIdOf(reply));
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // The exec step got the version as one argument; the secret it printed is redacted.
    expect(run.output).toContain('deploying 1.4.2 token ***');
    expect(run.output).not.toContain(SECRET);
    const hook = deploy.requests.find((r) => r.url === '/hooks/deploy')!;
    expect(JSON.parse(hook.body)).toEqual({ version: '1.4.2', env: 'production' });
    const { createHmac } = await import('node:crypto');
    expect(hook.headers['x-signature']).toBe(`sha256=${createHmac('sha256', 'hook-secret-1234').update(hook.body).digest('hex')}`);
    // One message, posted once and edited: step n of m while running, then the outcome with the output.
    await app.runbooks.idle();
    expect(chat.messages.size).toBe(1);
    const edits = [...chat.messages.values()][0]!;
    expect(edits.some((m) => /step \d of 3/.test(m.title))).toBe(true);
    const last = edits.at(-1)!;
    expect(last.title).toMatch(/✅ deploy shop 1.4.2 → production: succeeded/);
    expect(last.text).toContain('deploying 1.4.2 token ***');
    expect(attachmentBytes(last.attachments![0]!).toString()).toContain('deploying 1.4.2');
    expect(JSON.stringify(edits)).not.toContain(SECRET);
    // The run record and the audit log agree on who did what.
    const shown = await say(app, `runs show ${run.id}`);
    expect((shown.data as { run: { status: string; requestedBy: string } }).run).toMatchObject({ status: 'succeeded', requestedBy: 'local:olga' });
    const audit = await say(app, 'audit search --user local:olga --limit 5');
    expect(JSON.stringify(audit.data)).toContain('deploy');
  });

  it('--dry-run shows the steps with parameters filled in and runs nothing', async () => {
    const reply = await say(app, 'deploy shop 2.0.0 --env staging --dry-run');
    expect(reply.outcome).toBe('ok');
    const plan = (reply.data as { plan: string[] }).plan;
    expect(plan[0]).toContain('"2.0.0"');
    expect(plan[1]).toContain('{"version":"2.0.0","env":"staging"}');
    expect((await app.runbooks.service.list({})).length).toBe(0);
    expect(deploy.requests.filter((r) => r.url.startsWith('/hooks')).length).toBe(0);
  });

  it('refuses a version that does not match its pattern, and passes shell syntax in an allowed parameter literally', async () => {
    for (const bad of ['1.0;rm -rf /', '$(touch /tmp/pwned)', '`id`']) {
      const r = await say(app, `deploy shop "${bad}"`);
      expect(r.outcome).toBe('invalid');
      expect(r.text).toContain('is not a valid version for shop');
    }
    const marker = join(tmpdir(), `pwned-${Date.now()}`);
    const payload = `$(touch ${marker});touch ${marker}`;
    const r = await say(app, `runbook run echo shop --param note=${payload.replace(/ /g, '')}`);
    const run = await finished(app, runIdOf(r));
    expect(run.status).toBe('succeeded');
    expect(run.output).toContain(JSON.stringify([payload.replace(/ /g, '')]));
    expect(existsSync(marker)).toBe(false);
  });

  it('fails a step that runs past its timeout, and cancels a running step', async () => {
    const slow = await finished(app, runIdOf(await say(app, 'runbook run slow shop')));
    expect(slow.status).toBe('failed');
    expect(slow.error).toContain('timed out after 300ms');

    const hang = runIdOf(await say(app, 'runbook run hang shop'));
    await eventually(async () => (await app.runbooks.service.get(hang))!.output.includes('started'), 5000, 'the step to start');
    const cancel = await say(app, `runs cancel ${hang}`, { as: 'local:bob' });
    expect(cancel.outcome).toBe('ok');
    const run = await finished(app, hang);
    expect(run.status).toBe('cancelled');
    expect(run.steps[0]!.status).toBe('cancelled');
  });

  it('waits for a second person to approve; the requester cannot approve their own run', async () => {
    const id = runIdOf(await say(app, 'runbook run gated shop', { as: 'local:olga' }));
    await eventually(async () => (await app.runbooks.service.get(id))!.status === 'waiting_approval', 5000, 'the approval step');
    await app.runbooks.messenger.idle();
    const msg = [...chat.messages.values()][0]!.at(-1)!;
    expect(msg.buttons?.map((b) => b.label)).toEqual(['Approve', 'Cancel']);
    const self = await say(app, `runs approve ${id}`, { as: 'local:olga' });
    expect(self.outcome).toBe('invalid');
    expect(self.text).toContain('a second person must approve');
    const viewer = await say(app, `runs approve ${id}`, { as: 'local:nobody' });
    expect(viewer.outcome).toBe('denied');
    const ok = await say(app, `runs approve ${id}`, { as: 'local:bob' });
    expect(ok.outcome).toBe('ok');
    const run = await finished(app, id);
    expect(run.status).toBe('succeeded');
    expect(run.steps[0]!.detail).toBe('approved by local:bob');
    expect(run.output).toContain('went ahead');
  });

  it('refuses runs under the kill-switch, a disabled cluster or maintenance, unless an admin forces them', async () => {
    await say(app, 'killswitch on --reason "incident in progress"');
    const refused = await say(app, 'deploy shop 1.0.0', { as: 'local:olga' });
    expect(refused.outcome).toBe('invalid');
    expect(refused.text).toContain('global kill-switch is on');
    const notAdmin = await say(app, 'deploy shop 1.0.0 --force', { as: 'local:olga' });
    expect(notAdmin.text).toContain('only an admin may --force');
    const forced = await say(app, 'deploy shop 1.0.0 --force');
    expect(forced.outcome).toBe('ok');
    const run = await finished(app, runIdOf(forced));
    expect(run.forced).toBe(true);
    await say(app, 'killswitch off');

    await say(app, 'maintenance start api --for 1h --reason "db upgrade"');
    const inMaintenance = await say(app, 'test shop', { as: 'local:olga' });
    expect(inMaintenance.text).toContain('maintenance');
    await say(app, 'maintenance end api');
    await say(app, 'cluster disable api --reason "bad deploy"');
    expect((await say(app, 'rollback shop --to 0.9.0', { as: 'local:olga' })).text).toContain('cluster api is disabled');
  });

  it('a canary whose analysis fails rolls back automatically to the last good version', async () => {
    const good = await finished(app, runIdOf(await say(app, 'runbook run canary shop --param version=1.0.0')));
    expect(good.status).toBe('succeeded');
    // canary is not "deploy": record a successful deploy of 1.0.0 as the version to go back to.
    expect((await finished(app, runIdOf(await say(app, 'deploy shop 1.0.0')))).status).toBe('succeeded');
    errorRate = 0.3;
    const declared = await say(app, 'incident declare "Checkout errors" --sev 2 --cluster api');
    expect(declared.outcome).toBe('ok');
    const bad = await finished(app, runIdOf(await say(app, 'runbook run canary shop --param version=1.1.0')));
    expect(bad.status).toBe('failed');
    expect(bad.error).toContain('analysis failed: 2 of 2 measurements failed result < 0.05');
    let rollback;
    await eventually(async () => {
      rollback = (await app.runbooks.service.list({ service: 'shop' })).find((r) => r.parentId === bad.id);
      return Boolean(rollback);
    });
    const done = await finished(app, rollback!.id);
    expect(done).toMatchObject({ runbook: 'rollback', status: 'succeeded', requestedBy: 'system' });
    expect(done.output).toContain('rolled back to 1.0.0');
    await app.runbooks.idle();
    const titles = [...chat.messages.values()].map((m) => m.at(-1)!.title);
    expect(titles).toContain('✅ rollback shop 1.0.0 → production: succeeded');
    // The open incident of the cluster records it.
    const timeline = await say(app, 'incident timeline 1');
    expect(JSON.stringify(timeline)).toContain(`automatic rollback to 1.0.0 started as ${done.id}`);
  });

  it('rollback without --to goes back to the last version that deployed successfully', async () => {
    await finished(app, runIdOf(await say(app, 'deploy shop 1.0.0')));
    await finished(app, runIdOf(await say(app, 'deploy shop 1.1.0')));
    const r = await say(app, 'rollback shop');
    expect(r.title).toContain('rollback shop 1.0.0');
    expect((await finished(app, runIdOf(r))).output).toContain('rolled back to 1.0.0');
  });

  it('dispatches a GitHub Actions workflow and follows its run to the end', async () => {
    const run = await finished(app, runIdOf(await say(app, 'runbook run gha shop --param version=3.1.0')));
    expect(run.status).toBe('succeeded');
    const dispatch = github.requests.find((r) => r.method === 'POST')!;
    expect(JSON.parse(dispatch.body)).toEqual({ ref: 'main', inputs: { version: '3.1.0' }, return_run_details: true });
    expect(dispatch.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(run.steps[0]!.detail).toBe('GitHub run 42 succeeded');
    expect(githubPolls).toBe(3);
  });

  it('the same request delivered twice starts one run', async () => {
    const [a, b] = await Promise.all([say(app, 'deploy shop 5.0.0', { id: 'retry-1' }), say(app, 'deploy shop 5.0.0', { id: 'retry-1' })]);
    expect(runIdOf(a)).toBe(runIdOf(b));
    await finished(app, runIdOf(a));
    expect((await app.runbooks.service.list({})).length).toBe(1);
  });

  it('a second deploy of the same service and environment is refused, naming the run in progress', async () => {
    const first = runIdOf(await say(app, 'runbook run hang shop'));
    const second = await say(app, 'deploy shop 1.2.3', { as: 'local:olga' });
    expect(second.outcome).toBe('invalid');
    expect(second.text).toContain(`hang run ${first}`);
    // Another environment is another lock.
    expect((await say(app, 'deploy shop 1.2.3 --env staging')).outcome).toBe('ok');
    await say(app, `runs cancel ${first}`);
    await finished(app, first);
  });

  it('runs left running by a crash are reported as interrupted', async () => {
    const { insertRun } = await import('../../src/store/runbook-run-store.js');
    await insertRun(app.runbooks.db, {
      id: 'run-crashed2', service: 'shop', env: 'production', runbook: 'deploy', cluster: 'api', params: { version: '1.0.0' }, status: 'running',
      steps: [{ name: 'build', type: 'exec', status: 'running' }], requestedBy: 'local:olga', requestedName: 'olga', platform: 'console', channel: 'ops',
      traceId: 't', idempotencyKey: 'k-crash', forced: false, createdAt: '2020-01-01T00:00:00.000Z', output: '', version: 1,
    });
    const found = await app.runbooks.service.recoverInterrupted();
    expect(found.map((r) => r.id)).toEqual(['run-crashed2']);
    await app.runbooks.idle();
    const msg = [...chat.messages.values()][0]!.at(-1)!;
    expect(msg.title).toContain('interrupted');
    expect(msg.text).toContain('steps were not re-run');
  });

  it('status says runs execute in this process without Redis', async () => {
    const s = await say(app, 'status');
    expect(s.text).toContain('Runbooks run in this process');
    expect((s.data as { runbookQueue: string }).runbookQueue).toBe('in-process');
  });
});

describe('config', () => {
  it('refuses a service on an unknown cluster and an unknown onFailure runbook', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-'));
    try {
      await expect(createTestApp({ dir, config: `clusters:\n  api:\n    rateLimits: { perMinute: 1, perHour: 60, perDay: 1440 }\nservices:\n  shop: { cluster: nope, runbooks: { deploy: { onFailure: undo, steps: [{ type: exec, argv: [x] }] } } }\n` })).rejects.toThrow(/no cluster named "nope"[\s\S]*no runbook named "undo"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
