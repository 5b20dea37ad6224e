import { PassThrough, Readable, type Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in-process with captured streams: what a user would see, and the exit code. */
export async function runCli(argv: string[], stdinText = '', stdout: Writable = new PassThrough()) {
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  const code = await main(argv, { stdout, stderr, stdin: Readable.from([stdinText]) });
  return { code, out, err };
}
