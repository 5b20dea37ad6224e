#!/usr/bin/env node
// Thin launcher: the CLI lives in TypeScript and is compiled to dist/ by `npm run build` (run by `npm ci`).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error('infrabot: fatal:', err instanceof Error ? err.message : err); process.exitCode = 70; },
);
