// The CLI as bin/infrabot.js runs it, but from the TypeScript sources (for tests that need a real process).
import { main } from '../../src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('infrabot: fatal:', err instanceof Error ? err.message : err);
    process.exitCode = 70;
  },
);
