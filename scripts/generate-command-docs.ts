import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_GROUPS } from '../commands/index.js';
import { createRegistry } from '../src/framework/registry.js';
import { renderCommandDocs } from '../src/framework/render-command-docs.js';
import { PACKAGE_ROOT } from '../src/util/package-root.js';

const file = join(PACKAGE_ROOT, 'docs', 'commands.md');
writeFileSync(file, renderCommandDocs(createRegistry(COMMAND_GROUPS)));
console.log(`wrote ${file}`);
