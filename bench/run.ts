/**
 * `npm run bench`: runs every bench/*.bench.ts in its own process, one after another, so figures from one
 * do not disturb the next. Each prints its own figures; this prints a header per file.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

const dir = join(PACKAGE_ROOT, 'bench');
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { stdio: 'inherit', cwd: PACKAGE_ROOT });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
