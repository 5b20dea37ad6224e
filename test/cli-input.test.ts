import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.js';
import { TEST_CONFIG } from './helpers/test-app.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup() {
  dir = mkdtempSync(join(tmpdir(), 'infrabot-cli-input-'));
  writeFileSync(join(dir, 'config.yaml'), TEST_CONFIG);
  return ['--config', join(dir, 'config.yaml'), '--data-dir', join(dir, 'data')];
}

const cli = runCli;

/** Like `| head -c <bytes>`: takes that much, then the pipe is closed and the write that did not fit fails with EPIPE. */
function closingAfter(bytes: number) {
  let got = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString();
      const room = bytes - got.length;
      got += text.slice(0, Math.max(0, room));
      if (text.length > room) done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      else done();
    },
  });
  // An 'error' with no listener would crash the process with a stack trace: record whether each was handled.
  const unhandled: string[] = [];
  const emit = stream.emit.bind(stream);
  stream.emit = ((event: string, ...args: unknown[]) => {
    if (event === 'error' && stream.listenerCount('error') === 0) unhandled.push(String(args[0]));
    return emit(event, ...args);
  }) as typeof stream.emit;
  return { stream, received: () => got, unhandled };
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('what a user trips on in the CLI (issue 8)', () => {
  it('exits 1 from `run "audit verify"` when the chain is broken: the reply reports a failure', async () => {
    const opts = setup();
    await cli(['run', 'status', ...opts]);
    await cli(['run', 'whoami', ...opts]);
    const db = new Database(join(dir, 'data', 'infrabot.db'));
    db.prepare("UPDATE audit SET raw_text = 'tampered' WHERE id = 1").run();
    db.close();
    const r = await cli(['run', 'audit verify', ...opts]);
    expect(r.out).toContain('Audit log does not verify');
    expect(r.code).toBe(1);
    expect(JSON.parse((await cli(['run', 'audit verify', '--json', ...opts])).out).outcome).toBe('failed');
    const exported = (await cli(['audit', 'export', ...opts])).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(exported.at(-1)).toMatchObject({ command: 'audit verify', outcome: 'failed', error: '❌ Audit log does not verify' });
  });

  it('takes --yes outside the quotes as the confirmation of `run`', async () => {
    const opts = setup();
    const r = await cli(['run', 'cluster disable api --reason abc', '--yes', ...opts]);
    expect(r).toMatchObject({ code: 0, out: expect.stringContaining('Cluster api disabled') });
    expect((await cli(['run', 'cluster enable api', '-y', ...opts])).code).toBe(0);
    const elsewhere = await cli(['audit', 'verify', '--yes', ...opts]);
    expect(elsewhere.code).toBe(64);
    expect(elsewhere.err.trim().split('\n')).toHaveLength(1);
  });

  it('answers an unknown CLI option in one line, saying where command options go', async () => {
    const r = await cli(['run', 'cluster disable api', '--reason', 'abc', ...setup()]);
    expect(r.code).toBe(64);
    expect(r.err.trim().split('\n')).toEqual(['infrabot: unknown option --reason. Options of the command itself go inside the quotes: infrabot run "cluster disable api --reason …". See infrabot --help.']);
  });

  it('refuses an export file in a missing directory in one line naming it', async () => {
    const r = await cli(['audit', 'export', '--output', '/nonexistent/dir/x.jsonl', ...setup()]);
    expect(r.code).toBe(73);
    expect(r.err).toBe('infrabot audit export: cannot use the output file /nonexistent/dir/x.jsonl: no such file or directory (ENOENT)\n');
  });

  it('ends an export quietly when the reader goes away, with the count really written', async () => {
    const opts = setup();
    for (let i = 0; i < 30; i++) await cli(['run', 'status', ...opts]);
    const head = closingAfter(3000);
    const r = await cli(['audit', 'export', ...opts], '', head.stream);
    expect(r.code).toBe(0);
    const got = head.received().split('\n').length - 1; // whole records the reader took
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(30);
    expect(r.err).toBe(`exported ${got} audit record${got === 1 ? '' : 's'}; stopped there because the reader closed the output\n`);
    noStackTrace(r.err);
  });

  it('survives `run … --json | head -c 600`', async () => {
    const opts = setup();
    const head = closingAfter(600);
    const r = await cli(['run', 'help', '--json', ...opts], '', head.stream);
    await new Promise((done) => setImmediate(done));
    expect(head.unhandled).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });

  it('ends quietly on a real closed pipe (`| head -1`, `| head -c 600`), with no stack trace', async () => {
    const opts = setup();
    // More than a pipe holds (64 KiB), so the reader really goes away before the export is done.
    const lines = Array.from({ length: 600 }, (_, i) => `ratelimit set api --per-minute ${1000 + i}`).join('\n');
    expect((await cli(['console', ...opts], lines + '\n')).code).toBe(0);
    // A real process and a real pipe: bash reports the CLI's own exit code and its stderr.
    const shell = (args: string, head: string) =>
      spawnSync('bash', ['-c', `node --import tsx test/helpers/cli-entry.ts ${args} 2>"$ERR" | ${head} >/dev/null; echo \${PIPESTATUS[0]}`], {
        env: { ...process.env, ERR: join(dir, 'stderr.txt'), INFRABOT_KEY_DIR: join(dir, 'data-keys') },
        encoding: 'utf8',
      });
    const quoted = opts.map((o) => `'${o}'`).join(' ');
    const exp = shell(`audit export ${quoted}`, 'head -1');
    const err = readFileSync(join(dir, 'stderr.txt'), 'utf8');
    expect(exp.stdout.trim()).toBe('0');
    noStackTrace(err);
    const [, n] = /^exported (\d+) audit records?; stopped there because the reader closed the output\n$/.exec(err) ?? [];
    expect(Number(n)).toBeLessThan(600); // it must not claim records the reader never took
    const run = shell(`run 'audit --limit 200' --json ${quoted}`, 'head -c 600');
    expect(run.stdout.trim()).toBe('0');
    noStackTrace(readFileSync(join(dir, 'stderr.txt'), 'utf8'));
  }, 30_000);

  it('names the path when --data-dir is a file or the database is corrupt', async () => {
    const opts = setup();
    const file = join(dir, 'data');
    writeFileSync(file, 'not a directory');
    const r = await cli(['run', 'status', ...opts]);
    expect(r.code).toBe(73);
    expect(r.err).toContain(`cannot use the data directory (--data-dir) ${file}:`);
    noStackTrace(r.err);

    rmSync(file);
    mkdirSync(file);
    writeFileSync(join(file, 'infrabot.db'), 'garbage '.repeat(1000));
    const corrupt = await cli(['run', 'status', ...opts]);
    expect(corrupt.code).toBe(73);
    expect(corrupt.err).toBe(`infrabot: cannot use the database ${join(file, 'infrabot.db')}: it is not an SQLite database (corrupt, or another kind of file) (SQLITE_NOTADB)\n`);
  });

  it('exits non-zero from a piped console when one of its commands failed', async () => {
    const opts = setup();
    expect((await cli(['console', ...opts], 'status\nwhoami\n')).code).toBe(0);
    expect((await cli(['console', ...opts], 'status\ncluster explode api\nstatus\n')).code).toBe(2);
    // A dangerous command without --yes did not run: the script failed.
    expect((await cli(['console', ...opts], 'cluster disable api --reason "piped"\n')).code).toBe(3);
  });

  it('shows control characters in user text as visible escapes on the terminal, stores them as typed', async () => {
    const opts = setup();
    const evil = 'evil\x1b[2K\rinnocent\x9b31m';
    expect((await cli(['run', `cluster disable api --reason "${evil}" --yes`, ...opts])).code).toBe(0);
    expect((await cli(['run', `incident declare "${evil}" --sev 3`, ...opts])).code).toBe(0);
    expect((await cli(['run', `incident update INC-1 "${evil}"`, ...opts])).code).toBe(0);
    for (const command of ['audit', 'history api', 'status api', 'incident list', 'incident show INC-1', 'incident timeline inc-1']) {
      const r = await cli(['run', command, ...opts]);
      expect(r.out, command).not.toMatch(/[\x1b\r\x9b]/);
      expect(r.out, command).toContain('evil\\x1b[2K\\x0dinnocent\\x9b31m');
    }
    const json = (await cli(['run', 'status api', '--json', ...opts])).out;
    expect(json).not.toMatch(/[\x1b\r\x9b]/);
    expect(JSON.stringify(JSON.parse(json))).toContain(JSON.stringify(evil).slice(1, -1)); // the same text, JSON-escaped
    const exported = await cli(['audit', 'export', ...opts]);
    expect(exported.out).not.toMatch(/[\x1b\r\x9b]/);
    expect(exported.out.split('\n').filter(Boolean).map((l) => JSON.parse(l).rawText)).toContain(`cluster disable api --reason "${evil}" --yes`);
    // The post-mortem the console writes for `cat` carries the title as visible escapes too.
    const pm = await cli(['console', ...opts], 'incident postmortem INC-1\n');
    const written = /Written to (\S+)/.exec(pm.out)![1]!;
    expect(readFileSync(written, 'utf8')).not.toMatch(/[\x1b\r\x9b]/);
    expect(readFileSync(written, 'utf8')).toContain('evil\\x1b[2K\\x0dinnocent');
    const file = join(dir, 'x.jsonl');
    await cli(['audit', 'export', '--output', file, ...opts]);
    expect(readFileSync(file, 'utf8')).toContain('\\u001b[2K\\rinnocent');
  });
});
