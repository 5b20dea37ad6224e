import { createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { escapeJsonForTerminal } from '../chat/console/escape-terminal-text.js';
import type { Store } from '../store/store.js';
import { escapeTerminalText } from '../chat/console/escape-terminal-text.js';
import { describeFileError } from './describe-file-error.js';

const EX_CANTCREAT = 73;
const EX_IOERR = 74;

/**
 * `infrabot audit export`: JSON lines to a file or stdout. The count it reports is what was really written:
 * a reader that stops early (`| head -1`) ends the export quietly with the records it got, and a file that
 * cannot be created is one clear line, never a stack trace.
 */
export async function exportAudit(store: Store, output: string | undefined, io: { stdout: Writable; stderr: Writable }): Promise<number> {
  let out: Writable = io.stdout;
  if (output) {
    try {
      out = createWriteStream(output, { fd: openSync(output, 'w') });
    } catch (err) {
      io.stderr.write(`infrabot audit export: ${describeFileError(err, 'the output file', output)}\n`);
      return EX_CANTCREAT;
    }
  }
  let failure: NodeJS.ErrnoException | undefined;
  out.on('error', (err: NodeJS.ErrnoException) => {
    failure ??= err;
  });
  let written = 0;
  const counted = (err?: Error | null) => {
    if (!err) written++;
  };
  await store.exportAudit(async (r) => {
    if (failure || out.destroyed) return false;
    if (!out.write(escapeJsonForTerminal(JSON.stringify(r)) + '\n', counted)) await settled(out);
    return !failure;
  });
  if (output) await new Promise<void>((done) => out.end(() => done()));
  else if (!failure && !out.destroyed) await new Promise<void>((done) => out.write('', () => done()));
  const records = `${written} audit record${written === 1 ? '' : 's'}`;
  if (failure?.code === 'EPIPE' || failure?.code === 'ERR_STREAM_DESTROYED' || (!output && out.destroyed && !failure)) {
    io.stderr.write(`exported ${records}; stopped there because the reader closed the output\n`);
    return 0;
  }
  if (failure) {
    io.stderr.write(`infrabot audit export: ${describeFileError(failure, 'the output', output ?? 'stdout')}; ${records} were written before it\n`);
    return EX_IOERR;
  }
  io.stderr.write(`exported ${records}${output ? ` to ${escapeTerminalText(output)}` : ''}\n`);
  return 0;
}

/** Resolves when the stream can take more, or can take nothing more. */
const settled = (out: Writable) =>
  new Promise<void>((done) => {
    const finish = () => {
      out.off('drain', finish).off('error', finish).off('close', finish);
      done();
    };
    out.on('drain', finish).on('error', finish).on('close', finish);
  });
