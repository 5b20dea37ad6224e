import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/util/package-root.js';

const dir = join(PACKAGE_ROOT, 'packages', 'guard');

describe('@infrabot/guard installs on its own', () => {
  it('depends on ioredis only, with OpenFeature as an optional peer', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['ioredis']);
    expect(pkg.peerDependenciesMeta?.['@openfeature/server-sdk']).toEqual({ optional: true });
    expect(pkg.files).toEqual(['dist', 'lua', 'README.md']);
  });

  it('imports nothing of the bot and nothing but node:, ioredis and (types only) OpenFeature', () => {
    let seen = 0;
    for (const file of readdirSync(join(dir, 'src'))) {
      const text = readFileSync(join(dir, 'src', file), 'utf8');
      const specs = Array.from(text.matchAll(/^(?:import|export) (type )?[^;]*? from '([^']+)';$/gms), (m) => [m[2]!, Boolean(m[1])] as const);
      seen += specs.length;
      for (const [spec, typeOnly] of specs) {
        const ok = spec.startsWith('node:') || spec === 'ioredis' || (spec === '@openfeature/server-sdk' && typeOnly) || /^\.\/[\w-]+\.js$/.test(spec);
        expect(ok, `${file} imports ${spec}`).toBe(true);
      }
    }
    expect(seen).toBeGreaterThan(30); // the pattern does find the imports
  });
});
