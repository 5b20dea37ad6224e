import { afterEach, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../commands/index.js';
import { commandName } from '../src/framework/registry.js';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health/health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** One invocation of every subcommand, in an order where each finds what it needs. */
const SCRIPT = (alertId: string) => [
  'help cluster',
  'whoami',
  'status',
  'status api',
  'killswitch on --reason "stop everything" --yes',
  'killswitch off',
  'cluster list',
  'cluster disable api --reason "bad deploy" --yes',
  'cluster enable api',
  'ratelimit show',
  'ratelimit set api --per-minute 300',
  'ratelimit release api',
  'ratelimit throttle api --factor 0.5 --reason "budget nearly spent"',
  'ratelimit adaptive off api',
  'ratelimit adaptive on api',
  'ratelimit adapt api --factor 0.5 --reason "error rate 50.0% over 30s"',
  'budget set api --daily 50 --monthly 1000',
  'budget set payments --team --monthly 5000',
  'budget list',
  'costs --since 7d --by team',
  'breaker trip api --yes',
  'breaker show',
  'breaker reset api',
  'role grant local:bob operator --cluster api',
  'role revoke local:bob operator --cluster api',
  'role list',
  'audit --limit 5',
  'audit verify',
  'audit report --since 7d',
  'history api --at 1h',
  'health',
  'health run api-http',
  'health history api-http',
  'alert list',
  `alert ack ${alertId}`,
  `alert silence ${alertId} --for 1h --reason "fix deploying"`,
  `alert resolve ${alertId}`,
  'silence api --for 1h --reason "known issue"',
  'silence list',
  'silence end api',
  'maintenance start api --for 1h',
  'maintenance list',
  'maintenance end api',
  'incident declare "Checkout errors" --sev 2 --cluster api',
  'incident list',
  'incident show 1',
  'incident ack 1',
  'incident update 1 "rolling back"',
  'incident assign 1 comms local:carol',
  'incident severity 1 3',
  'incident mitigate 1',
  'incident timeline 1',
  'incident resolve 1 --summary "bad deploy rolled back"',
  'incident reopen 1',
  'incident postmortem 1',
  'incident stats',
  'apikey create ci-deploy --role operator --cluster api --expires 30d',
  'apikey list',
  'apikey revoke ci-deploy',
];

describe('structured reply data', () => {
  it('every subcommand returns data matching its documented schema, with no emoji or display text', async () => {
    const api = await fakeService();
    const services = { shop: { cluster: 'api', runbooks: {
      deploy: { steps: [{ type: 'exec', argv: ['echo', 'shipping {{version}}'] }] },
      rollback: { steps: [{ type: 'exec', argv: ['echo', 'back to {{version}}'] }] },
      test: { steps: [{ type: 'exec', argv: ['echo', 'smoke'] }] },
      gated: { steps: [{ type: 'approve' }, { type: 'exec', argv: ['echo', 'approved'] }] },
    }, logs: { command: ['echo', 'a log line'] } } };
    const h = await healthApp(BASE_CONFIG(cluster('api', [httpCheck('api-http', api.url)], '    team: payments\n    adaptive: { floor: { perMinute: 100 } }\n'), `services: ${JSON.stringify(services)}\nrunbooks: { poll: 50ms }\n`));
    cleanups.push(async () => {
      await h.app.cleanup();
      await api.close();
    });
    api.break();
    await h.round(3);
    const [alert] = await h.app.health!.health.alerts({ status: 'firing' });
    expect(alert).toBeDefined();

    const seen = new Set<string>();
    let scheduleId = '';
    const script = [...SCRIPT(alert!.id), 'summary --since 24h', 'schedule add "daily 02:00" "status" --name nightly', 'schedule list', 'schedule show $s', 'schedule pause $s', 'schedule resume $s', 'schedule remove $s'];
    for (const line of script) {
      const text = line.replace('$s', scheduleId);
      const reply = await h.app.run(text);
      if (text.startsWith('schedule add')) scheduleId = (reply.data as { schedule: { id: string } }).schedule.id;
      // `health run` of the broken service ran and reports the failure it found: its data is there all the same.
      expect(reply.outcome === 'ok' || reply.error?.code === 'infra_check_failed', `${text}: ${reply.text}`).toBe(true);
      const group = COMMAND_GROUPS.find((g) => text.startsWith(g.name))!;
      const sub =
        group.subcommands.find((s) => text.split(' ')[1] === s.name) ?? group.subcommands.find((s) => s.name === group.defaultSubcommand)!;
      seen.add(commandName(group, sub));
      const parsed = sub.data.safeParse(reply.data);
      expect(parsed.success, `${text}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      expect(JSON.stringify(reply.data), text).not.toMatch(/\p{Extended_Pictographic}/u);
    }
    // Runbooks: a run to show and cancel, one waiting for a second person to approve.
    const check = (name: string, reply: { outcome: string; data?: unknown; text?: string }) => {
      expect(reply.outcome, `${name}: ${reply.text}`).toBe('ok');
      const [g, sub] = name.split(' ');
      const group = COMMAND_GROUPS.find((x) => x.name === g)!;
      const def = group.subcommands.find((x) => x.name === (sub ?? group.defaultSubcommand))!;
      expect(def.data.safeParse(reply.data).success, name).toBe(true);
      expect(JSON.stringify(reply.data), name).not.toMatch(/\p{Extended_Pictographic}/u);
      seen.add(commandName(group, def));
    };
    for (const line of ['deploy shop 1.0.0 --yes', 'rollback shop --to 0.9.0 --dry-run', 'test shop --dry-run', 'runbook list', 'runs', 'logs shop', 'metrics api latency']) {
      check(line.split(' ')[0] === 'runbook' ? 'runbook list' : line.split(' ')[0] === 'runs' ? 'runs list' : line.split(' ')[0]!, await h.app.run(line));
    }
    const started = await h.app.run('runbook run gated shop --yes');
    expect(started.outcome, started.text).toBe('ok');
    const gated = started.data as { run: { id: string } };
    check('runbook run', { outcome: 'ok', data: gated });
    for (let i = 0; i < 200 && (await h.app.runbooks.service.get(gated.run.id))!.status !== 'waiting_approval'; i++) await new Promise((r) => setTimeout(r, 20));
    check('runs show', await h.app.run(`runs show ${gated.run.id}`));
    await h.app.run('role grant local:bob operator');
    check('runs approve', await h.app.run(`runs approve ${gated.run.id}`, { as: 'local:bob' }));
    // One run per service and environment: the next waits for this one to end.
    for (let i = 0; i < 200 && (await h.app.runbooks.service.get(gated.run.id))!.status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 20));
    const other = (await h.app.run('runbook run gated shop --yes')).data as { run: { id: string } };
    for (let i = 0; i < 200 && (await h.app.runbooks.service.get(other.run.id))!.status !== 'waiting_approval'; i++) await new Promise((r) => setTimeout(r, 20));
    check('runs cancel', await h.app.run(`runs cancel ${other.run.id}`));
    const all = COMMAND_GROUPS.flatMap((g) => g.subcommands.map((s) => commandName(g, s)));
    expect(all.filter((n) => !seen.has(n))).toEqual([]);
  });

  it('control data says what a script needs: effective state, times as ISO, numbers as numbers', async () => {
    const h = await healthApp(BASE_CONFIG(cluster('api', [])));
    cleanups.push(() => h.app.cleanup());
    await h.app.run('killswitch on --reason "db corruption" --yes');
    const status = await h.app.run('status api');
    expect(status.data).toMatchObject({
      killSwitch: { on: true, change: { by: 'local:root-admin', at: h.clock.now().toISOString(), reason: 'db corruption' } },
      clusters: [{ name: 'api', enabled: true, serving: false, rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }, breaker: { state: 'closed' } }],
      // What the text's notice says, for scripts: no Redis here, so the thin in-process path (degraded).
      reverts: [],
      controlChannel: { redis: 'not configured', target: null, degraded: true, notice: expect.stringContaining('Redis is not configured') },
    });
    const again = await h.app.run('killswitch on --reason "again" --yes');
    expect(again.data).toMatchObject({ changed: false, killSwitch: { on: true } });
    // A second window on the same target is merged, and the data says so.
    expect((await h.app.run('maintenance start api --for 1h')).data).toMatchObject({ action: 'opened', window: { target: 'api', kind: 'maintenance' } });
    expect((await h.app.run('maintenance start api --for 2h')).data).toMatchObject({ action: 'extended' });
    expect((await h.app.run('maintenance start api --for 10m')).data).toMatchObject({ action: 'unchanged' });
  });

  it('a command that ran and found a failure keeps its data, with outcome failed and infra_check_failed', async () => {
    const h = await healthApp(BASE_CONFIG(cluster('api', [])));
    cleanups.push(() => h.app.cleanup());
    await h.app.run('status');
    h.app.db!.prepare("UPDATE audit SET raw_text = 'tampered' WHERE id = 1").run();
    const reply = await h.app.run('audit verify');
    expect(reply.outcome).toBe('failed');
    expect(reply.error).toMatchObject({ code: 'infra_check_failed' });
    expect(reply.data).toMatchObject({ intact: false, findings: [{ firstRecord: 1 }] });
    // Counts read in the right number: "1 problem", "1 incident", not "1 problem(s)".
    expect(reply.text).toMatch(/^1 problem:/);
    await h.app.run('incident declare "Checkout errors" --sev 2 --cluster api');
    expect((await h.app.run('incident list')).title).toMatch(/^1 (open )?incident$/);
  });
});
