import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { TEST_CONFIG } from './helpers/test-app.js';

let dir: string;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(config = TEST_CONFIG) {
  dir = mkdtempSync(join(tmpdir(), 'infrabot-cli-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.yaml'), config);
  return ['--config', join(dir, 'config.yaml'), '--data-dir', join(dir, 'data')];
}

const cli = runCli;

describe('infrabot CLI', () => {
  it('runs one command as the local admin and exits 0', async () => {
    const opts = setup();
    const r = await cli(['run', 'status', ...opts]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('All 3 clusters enabled');
  });

  it('maps outcomes to exit codes: needs --yes 3, denied 4, invalid 2', async () => {
    const opts = setup();
    expect((await cli(['run', 'cluster disable api --reason "bad deploy"', ...opts])).code).toBe(3);
    expect((await cli(['run', 'cluster disable api --reason "bad deploy"', '--as', 'mallory', ...opts])).code).toBe(4);
    expect((await cli(['run', 'cluster explode api', ...opts])).code).toBe(2);
    expect((await cli(['run', 'cluster disable api --reason "bad deploy" --yes', ...opts])).code).toBe(0);
    // Who really ran a command with --as stays on record.
    const audit = JSON.parse((await cli(['run', 'audit --user mallory', '--json', ...opts])).out);
    expect(audit.data.records[0].rawText).toBe('cluster disable api --reason "bad deploy"');
    const exported = await cli(['audit', 'export', ...opts]);
    expect(exported.out).toMatch(/"userId":"local:mallory","userName":"local:mallory \(--as, run by local:[^)]+\)"/);
  });

  it('prints structured data with --json: booleans, numbers, ids, no display text', async () => {
    const opts = setup();
    const r = await cli(['run', 'breaker show api', '--json', ...opts]);
    expect(JSON.parse(r.out)).toEqual({
      outcome: 'ok',
      data: { breakers: [{ cluster: 'api', state: 'closed', cooldownMs: 300_000, change: null }] },
      traceId: expect.any(String),
      time: expect.any(String),
    });
    const denied = JSON.parse((await cli(['run', 'killswitch on --reason "stop it"', '--as', 'mallory', '--json', ...opts])).out);
    expect(denied).toMatchObject({ outcome: 'denied', error: { code: 'infra_denied', message: expect.stringContaining('admin role') } });
    expect(denied.data).toBeUndefined();
    const confirm = JSON.parse((await cli(['run', 'cluster disable api --reason "bad deploy"', '--json', ...opts])).out);
    expect(confirm).toMatchObject({ outcome: 'confirm', error: { code: 'infra_confirmation_required' }, confirmWith: 'cluster disable api --reason "bad deploy" --yes' });
  });

  it('prints --json data for a command of every group, valid against its documented schema', async () => {
    const storefront = { cluster: 'api', checks: ['storefront-http'], runbooks: { deploy: { steps: [{ type: 'exec', argv: ['echo', '{{version}}'] }] }, rollback: { steps: [{ type: 'exec', argv: ['echo', '{{version}}'] }] }, test: { steps: [{ type: 'exec', argv: ['echo', 'ok'] }] } }, logs: { command: ['echo', 'a line'] } };
    const opts = setup(`${TEST_CONFIG}\nservices: ${JSON.stringify({ storefront })}\n`);
    const { COMMAND_GROUPS } = await import('../commands/index.js');
    const lines: Record<string, string> = {
      help: 'help', whoami: 'whoami', status: 'status', killswitch: 'killswitch off', cluster: 'cluster list', ratelimit: 'ratelimit show api',
      breaker: 'breaker show', role: 'role list', audit: 'audit verify', history: 'history global', health: 'health', alert: 'alert list',
      silence: 'silence list', maintenance: 'maintenance list', incident: 'incident list', apikey: 'apikey list',
      schedule: 'schedule list', summary: 'summary', budget: 'budget list', costs: 'costs',
      deploy: 'deploy storefront 1.2.3 --dry-run', rollback: 'rollback storefront --to 1.2.2 --dry-run', test: 'test storefront --dry-run',
      runbook: 'runbook list', runs: 'runs', logs: 'logs storefront', metrics: 'metrics storefront latency',
    };
    expect(Object.keys(lines).sort()).toEqual(COMMAND_GROUPS.map((g) => g.name).sort());
    for (const g of COMMAND_GROUPS) {
      const r = await cli(['run', lines[g.name]!, '--json', ...opts]);
      expect(r.code, `${lines[g.name]}: ${r.out}`).toBe(0);
      const printed = JSON.parse(r.out);
      const words = lines[g.name]!.split(' ');
      const sub = g.subcommands.find((s) => s.name === words[1]) ?? g.subcommands.find((s) => s.name === g.defaultSubcommand)!;
      expect(sub.data.safeParse(printed.data).success, lines[g.name]).toBe(true);
      expect(r.out).not.toMatch(/\p{Extended_Pictographic}/u);
    }
  });

  it('start serves the HTTP control API and says where; a taken port is reported and the bot runs on', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const opts = setup(`${TEST_CONFIG}\nhttp: { port: 0 }\n`);
      const r = await cli(['start', ...opts], 'status\n');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/HTTP control API on http:\/\/127\.0\.0\.1:\d+ \(docs at http:\/\/127\.0\.0\.1:\d+\/docs/);
      const busy = setup(`${TEST_CONFIG}\nhttp: { port: ${taken} }\n`);
      const b = await cli(['start', ...busy], 'status\n');
      expect(b.code).toBe(0);
      expect(b.out).toContain(`HTTP control API not started: port ${taken} on 127.0.0.1 is in use`);
      expect(b.out).toContain('All 3 clusters enabled');
    } finally {
      blocker.close();
    }
  });

  it('reads one command per line from a non-TTY console and exits 0 at end of input', async () => {
    const opts = setup();
    const r = await cli(['console', ...opts], 'status api\n# a comment\n\nratelimit set api --per-minute 42\nratelimit show api\n');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Cluster api (Public API)');
    expect(r.out).toContain('Rate limits of api changed');
    expect(r.out).toMatch(/api\s+42\s+20,000\s+300,000/);
  });

  it('verifies the audit chain, exits 1 naming the record after tampering, and exports JSON lines', async () => {
    const opts = setup();
    await cli(['run', 'status', ...opts]);
    await cli(['run', 'ratelimit set api --per-minute 42', ...opts]);
    await cli(['run', 'whoami', ...opts]);
    const ok = await cli(['audit', 'verify', ...opts]);
    expect(ok).toMatchObject({ code: 0, out: expect.stringContaining('audit log intact: 3 records') });

    const file = join(dir, 'export.jsonl');
    const exported = await cli(['audit', 'export', '--format', 'jsonl', '--output', file, ...opts]);
    expect(exported.code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.command)).toEqual(['status', 'ratelimit set', 'whoami']);
    expect(lines[1]).toMatchObject({ args: { cluster: 'api', perMinute: 42 }, outcome: 'ok', platform: 'cli' });

    const db = new Database(join(dir, 'data', 'infrabot.db'));
    db.prepare("UPDATE audit SET raw_text = 'status' WHERE id = 2").run();
    db.close();
    const broken = await cli(['audit', 'verify', ...opts]);
    expect(broken.code).toBe(1);
    expect(broken.err).toContain('[first record affected: 2] record 2: its contents do not match its hash');
  });

  it('refuses a bad config, naming the file, the path and what was expected, and changes nothing', async () => {
    const opts = setup('clusters:\n  api:\n    rateLimits: { perMinute: "many", perHour: 1, perDay: 1 }\nadmins: [bob]\n');
    const r = await cli(['run', 'status', ...opts]);
    expect(r.code).toBe(78);
    expect(r.err).toContain('config.yaml: invalid configuration');
    expect(r.err).toContain('clusters.api.rateLimits.perMinute');
    expect(r.err).toContain('admins.0: expected a platform-qualified id');
    expect(() => readFileSync(join(dir, 'data', 'infrabot.db'))).toThrow();
  });

  it('names a missing environment variable and broken YAML', async () => {
    const opts = setup('clusters:\n  api:\n    rateLimits: { perMinute: 1, perHour: 1, perDay: 1 }\nadmins: ["${INFRABOT_TEST_UNSET_VAR}"]\n');
    const r = await cli(['run', 'status', ...opts]);
    expect(r.err).toContain('admins.0: environment variable INFRABOT_TEST_UNSET_VAR is not set');
    const yaml = setup('clusters: [\n');
    expect((await cli(['run', 'status', ...yaml])).err).toMatch(/config.yaml at line \d+, column \d+: not valid YAML/);
  });

  it('shows usage for unknown subcommands and flags', async () => {
    const opts = setup();
    const unknown = await cli(['frobnicate', ...opts]);
    expect(unknown).toMatchObject({ code: 64, err: expect.stringContaining('unknown command "frobnicate"') });
    expect(() => readFileSync(join(dir, 'data', 'infrabot.db'))).toThrow(); // refused before touching any data
    expect((await cli(['run', '--bogus', ...opts])).err).toContain('unknown option --bogus.');
  });
});
