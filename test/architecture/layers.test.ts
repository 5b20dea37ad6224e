import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Layers point one way (docs/architecture.md): the engine talks out through the ports it defines
 * (src/engine/ports.ts) and never imports the framework, a chat adapter, the HTTP server or a store
 * implementation. It may name the store's interfaces (types only) until the unit of work replaces them.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const FORBIDDEN = ['src/framework/', 'src/chat/', 'src/http/', 'src/cli/', 'src/app.ts'];
/** The store's interface modules: the engine may import types from these, nothing else of src/store. */
const STORE_INTERFACES = ['src/store/store.ts', 'src/store/health-store.ts', 'src/store/schedule-store.ts', 'src/store/api-key-store.ts'];

/**
 * Files allowed to break the rule while they are being moved onto the engine's ports (file → the imports it
 * may still have). Empty: every engine file follows it.
 */
const PENDING: Record<string, string[]> = {};

interface Import {
  from: string;
  target: string;
  typeOnly: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module a file depends on: imports, re-exports, dynamic imports and `declare module` augmentations. */
export function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return; // packages are not layers
    const target = relative(ROOT, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
    found.push({ from: relative(ROOT, file), target, typeOnly });
  };
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) add(m[2]!, Boolean(m[1]));
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[1]!, false);
  for (const m of text.matchAll(/declare\s+module\s+['"]([^'"]+)['"]/g)) add(m[1]!, false);
  return found;
}

export function violations(files: { path: string; text: string }[], pending: Record<string, string[]> = PENDING): string[] {
  return files.flatMap(({ path, text }) =>
    importsOf(path, text).flatMap((i) => {
      if (pending[i.from]?.includes(i.target)) return [];
      if (FORBIDDEN.some((f) => i.target === f || i.target.startsWith(f))) return [`${i.from} imports ${i.target}`];
      if (i.target.startsWith('src/store/')) {
        if (!STORE_INTERFACES.includes(i.target)) return [`${i.from} imports the store implementation ${i.target}`];
        if (!i.typeOnly) return [`${i.from} imports ${i.target} for more than its types`];
      }
      return [];
    }),
  );
}

const engineFiles = () => tsFiles(join(ROOT, 'src/engine')).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

describe('layers', () => {
  it('the engine imports no framework, chat, HTTP or CLI module and no store implementation', () => {
    expect(violations(engineFiles())).toEqual([]);
  });

  it('the pending list holds only imports that still exist (so it shrinks as files are moved)', () => {
    const all = engineFiles().flatMap((f) => importsOf(f.path, f.text));
    const stale = Object.entries(PENDING).flatMap(([file, targets]) =>
      targets.filter((t) => !all.some((i) => i.from === file && i.target === t)).map((t) => `${file} → ${t}`),
    );
    expect(stale).toEqual([]);
  });

  it('catches each kind of dependency the engine must not have', () => {
    const file = join(ROOT, 'src/engine/x/example.ts');
    const cases = [
      "import type { Reply } from '../../framework/reply.js';",
      "import { ChatRateLimitedError } from '../../chat/chat-sink.js';",
      "export { thing } from '../../http/api-error.js';",
      "const m = await import('../../store/sqlite-store.js');",
      "import { createSqliteHealthStore } from '../../store/sqlite-health-store.js';",
      "import { StaleHealthStateError } from '../../store/health-store.js';",
      "declare module '../../framework/command-context.js' { interface CommandServices { x?: 1 } }",
      "import {\n  a,\n  b,\n} from '../../framework/define-command.js';",
    ];
    for (const text of cases) expect(violations([{ path: file, text }], {}), text).toHaveLength(1);
    expect(violations([{ path: file, text: "import type { Store } from '../../store/store.js';\nimport { z } from 'zod';" }], {})).toEqual([]);
  });
});
