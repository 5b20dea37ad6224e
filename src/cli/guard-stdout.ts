import type { Writable } from 'node:stream';

const guarded = new WeakSet<Writable>();

/**
 * A reader that goes away (`infrabot run … --json | head -c 600`) makes the next write fail with EPIPE,
 * emitted as an 'error' event that would crash the process with a stack trace. Output then simply ends.
 */
export function guardStdout<W extends Writable>(out: W): W {
  if (guarded.has(out)) return out;
  guarded.add(out);
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    process.stderr.write(`infrabot: cannot write the output: ${err.message}\n`);
  });
  return out;
}
