import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests use the guard package's sources, not a possibly stale build.
  resolve: { alias: { '@infrabot/guard': fileURLToPath(new URL('./packages/guard/src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores: run files in parallel but not more workers than cores.
    maxWorkers: 2,
  },
});
