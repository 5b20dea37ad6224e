import { PassThrough, Readable, type Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

/**
 * Runs the CLI in-process with captured streams: what a user would see, and the exit code. Unless the test
 * chose one, the audit key directory is `<data dir>-keys` (outside the data directory, as in production,
 * and private to the test), never the user's ~/.config.
 */
export async function runCli(argv: string[], stdinText = '', stdout: Writable = new PassThrough()) {
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const dataDir = argv[argv.indexOf('--data-dir') + 1];
  const keyDirChosen = process.env.INFRABOT_KEY_DIR !== undefined;
  if (!keyDirChosen && argv.includes('--data-dir') && dataDir) process.env.INFRABOT_KEY_DIR = `${dataDir}-keys`;
  try {
    const code = await main(argv, { stdout, stderr, stdin: Readable.from([stdinText]) });
    return { code, out, err };
  } finally {
    if (!keyDirChosen) delete process.env.INFRABOT_KEY_DIR;
  }
}
