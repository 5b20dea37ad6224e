import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../commands/index.js';
import { createRegistry } from '../src/framework/registry.js';
import { renderCommandDocs } from '../src/framework/render-command-docs.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

describe('docs/commands.md', () => {
  it('matches the command definitions (run `npm run docs` after changing a command)', () => {
    const committed = readFileSync(join(PACKAGE_ROOT, 'docs', 'commands.md'), 'utf8');
    expect(committed).toBe(renderCommandDocs(createRegistry(COMMAND_GROUPS)));
  });

  it('refuses two commands with the same name', () => {
    expect(() => createRegistry([...COMMAND_GROUPS, COMMAND_GROUPS[0]!])).toThrow('duplicate command group "help"');
  });
});
