/**
 * CLI start-up: `infrabot run "/infra status"` end to end (spawn, imports, config, SQLite, the command,
 * exit), median of several runs, next to a bare `node -e 0` measured in the same run as the floor.
 * Uses the compiled CLI (bin/infrabot.js → dist/), as users run it: `npm run build` first if src changed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/util/package-root.js';
import { fmt, line, summarize } from './stats.js';

const RUNS = 9;
const dataDir = mkdtempSync(join(tmpdir(), 'infrabot-bench-cli-'));

function time(args: string[]): number[] {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    ms.push(performance.now() - started);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return ms;
}

try {
  time([join(PACKAGE_ROOT, 'bin/infrabot.js'), 'run', 'status', '--data-dir', dataDir]); // first run creates the database
  const node = summarize(time(['-e', '0']));
  const cli = summarize(time([join(PACKAGE_ROOT, 'bin/infrabot.js'), 'run', '/infra status', '--data-dir', dataDir]));
  line('node -e 0 (floor, same run)', `median ${fmt(node.p50)}`);
  line('infrabot run "/infra status"', `median ${fmt(cli.p50)} (${(cli.p50 / node.p50).toFixed(1)}× node)`, '< 500 ms', cli.p50 < 500);
  line('  spread over runs', `${fmt(cli.p50)} … max ${fmt(cli.max)}`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
