import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../commands/index.js';
import { describeOptions } from '../src/framework/describe-options.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

const DOCS = join(PACKAGE_ROOT, 'docs');

describe('docs say what the code does', () => {
  it('every URL of the API in the docs uses its port (18090), not another', () => {
    const wrong: string[] = [];
    for (const file of readdirSync(DOCS).filter((f) => f.endsWith('.md'))) {
      readFileSync(join(DOCS, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          // The API's routes, or infrabot's own address: both must name the API's port.
          if (/(\/api\/|\/metrics|infrabot:\d)/.test(line) && /(localhost|127\.0\.0\.1|infrabot):(?!18090)\d+/.test(line)) wrong.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(wrong).toEqual([]);
  });

  it('the reason option states its minimum length, so help, commands.md and the OpenAPI document show it', () => {
    const on = COMMAND_GROUPS.find((g) => g.name === 'killswitch')!.subcommands.find((s) => s.name === 'on')!;
    expect(describeOptions(on).find((o) => o.name === 'reason')!.description).toContain('at least 3 characters');
    expect(readFileSync(join(DOCS, 'commands.md'), 'utf8')).toContain('reasons 3 to 500');
  });
});
