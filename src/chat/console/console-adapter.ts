import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Pipeline } from '../../framework/pipeline.js';
import type { InvokingUser } from '../../framework/invocation.js';
import { shortId } from '../../util/ids.js';
import { renderText } from './render-text.js';

export interface ConsoleOptions {
  pipeline: Pipeline;
  user: InvokingUser;
  input: Readable;
  output: Writable;
  /** Interactive terminal: prompt, history, colours, and y/N confirmation of dangerous actions. */
  interactive: boolean;
  /** Where interactive command history is kept between sessions (up-arrow recalls yesterday's commands). */
  historyFile?: string;
}

const HISTORY_SIZE = 500;

function loadHistory(file?: string): string[] {
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return []; // first run: no history yet
  }
}

/**
 * A local terminal chat. Interactive on a TTY; otherwise it reads one command per line, prints each reply
 * and resolves at end of input, so it can be scripted (`infrabot console < commands.txt`).
 */
export async function runConsole(opts: ConsoleOptions): Promise<void> {
  const { pipeline, user, output, interactive } = opts;
  const rl = createInterface({
    input: opts.input,
    ...(interactive ? { output, terminal: true, historySize: HISTORY_SIZE, history: loadHistory(opts.historyFile), prompt: 'infra> ' } : {}),
  });
  const remember = (line: string) => {
    if (interactive && opts.historyFile) appendFile(opts.historyFile, line + '\n').catch(() => undefined);
  };
  const write = (s: string) => output.write(s + '\n');
  const invoke = (text: string, confirmed = false) =>
    pipeline.handle({ id: shortId(16), platform: 'console', user, channel: 'console', text, confirmed });

  if (interactive) {
    write(`infrabot console: you are ${user.id}. Type "help" for commands, "exit" to leave.`);
    rl.prompt();
  }
  let pendingConfirmation: string | undefined;
  for await (const raw of rl) {
    const line = raw.trim();
    if (pendingConfirmation !== undefined) {
      const text = pendingConfirmation;
      pendingConfirmation = undefined;
      if (/^y(es)?$/i.test(line)) write(renderText(await invoke(text, true), { color: true }));
      else write('Cancelled; nothing changed.');
    } else if (line === 'exit' || line === 'quit') {
      break;
    } else if (line && !line.startsWith('#')) {
      remember(line);
      const reply = await invoke(line);
      write(renderText(reply, { color: interactive }));
      if (interactive && reply.outcome === 'confirm') {
        pendingConfirmation = line;
        output.write('Proceed? [y/N] ');
        continue;
      }
    }
    if (interactive) rl.prompt();
  }
  rl.close();
}
