import { readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Pipeline } from '../../framework/pipeline.js';
import type { InvokingUser } from '../../framework/invocation.js';
import type { Outcome } from '../../framework/reply.js';
import { shortId } from '../../util/ids.js';
import type { ConsoleScreen } from './create-console-screen.js';
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
  /** Shared with the alert sink, so alerts print above the prompt and redraw it. */
  screen?: ConsoleScreen;
  /**
   * Asked (y/N) before an interactive console leaves on `exit` or Ctrl-D, e.g. when it is the bot's only
   * adapter and leaving stops probes and alert delivery. Without it the console leaves at once.
   */
  confirmLeave?: string;
}

const HISTORY_SIZE = 500;
const PROMPT = 'infra> ';
const CONFIRM_PROMPT = 'Proceed? [y/N] ';
export const CONSOLE_KEYS_HINT = 'Ctrl-C cancels the line or a confirmation; Ctrl-D or "exit" leaves.';

function loadHistory(file?: string): string[] {
  if (!file) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return []; // first run: no history yet
  }
}

/** Throws away what was typed on the current line (readline offers no API for it). */
function discardLine(rl: Interface): void {
  // `line` and `cursor` are plain fields of the interface that its typings mark read-only.
  Object.assign(rl as unknown as { line: string; cursor: number }, { line: '', cursor: 0 });
}

/**
 * A local terminal chat. Interactive on a TTY; otherwise it reads one command per line, prints each reply
 * and resolves at end of input, so it can be scripted (`infrabot console < commands.txt`).
 *
 * On a terminal Ctrl-C never stops the bot: it cancels what was typed, or answers a pending confirmation
 * with no. Ctrl-D (on an empty line) or `exit` leaves, after asking when `confirmLeave` is set.
 *
 * Resolves with the outcome of the first command that did not succeed (undefined when all did): a script's
 * exit code. A dangerous command piped without --yes did not run, so its 'confirm' counts as a failure.
 */
export async function runConsole(opts: ConsoleOptions): Promise<Outcome | undefined> {
  const history = opts.interactive ? loadHistory(opts.historyFile) : [];
  if (opts.interactive) opts.output.write(`infrabot console: you are ${opts.user.id}. Type "help" for commands. ${CONSOLE_KEYS_HINT}\n`);
  let firstFailure: Outcome | undefined;
  const note = (o: Outcome) => {
    if (o !== 'ok' && o !== 'duplicate') firstFailure ??= o;
  };
  for (;;) {
    await readCommands(opts, history, note);
    if (!opts.interactive || !opts.confirmLeave) return firstFailure;
    if (await askToLeave(opts, opts.confirmLeave)) return firstFailure;
  }
}

/** Reads and runs commands until `exit` or end of input, telling `note` how each ended. */
async function readCommands(opts: ConsoleOptions, history: string[], note: (o: Outcome) => void): Promise<void> {
  const { pipeline, user, output, interactive } = opts;
  const rl = createInterface({
    input: opts.input,
    ...(interactive ? { output, terminal: true, historySize: HISTORY_SIZE, history, prompt: PROMPT } : {}),
  });
  const remember = (line: string) => {
    if (interactive && opts.historyFile) appendFile(opts.historyFile, line + '\n').catch(() => undefined);
  };
  const write = (s: string) => output.write(s + '\n');
  const invoke = (text: string, confirmed = false) =>
    pipeline.handle({ id: shortId(16), platform: 'console', user, channel: 'console', text, confirmed });
  const prompt = (text = PROMPT) => {
    rl.setPrompt(text);
    rl.prompt();
    opts.screen?.prompting(rl);
  };

  let pendingConfirmation: string | undefined;
  let busy = false;
  rl.on('SIGINT', () => {
    output.write('^C\n');
    if (busy) {
      write('(A command is running; it finishes on its own in a moment.)');
      return;
    }
    discardLine(rl);
    if (pendingConfirmation !== undefined) {
      pendingConfirmation = undefined;
      write('Cancelled; nothing changed.');
    } else {
      write(`(${CONSOLE_KEYS_HINT})`);
    }
    prompt();
  });

  if (interactive) prompt();
  try {
    for await (const raw of rl) {
      opts.screen?.prompting(undefined);
      const line = raw.trim();
      busy = true;
      try {
        if (pendingConfirmation !== undefined) {
          const text = pendingConfirmation;
          pendingConfirmation = undefined;
          if (/^y(es)?$/i.test(line)) {
            const reply = await invoke(text, true);
            note(reply.outcome);
            write(renderText(reply, { color: true }));
          } else write('Cancelled; nothing changed.');
        } else if (line === 'exit' || line === 'quit') {
          break;
        } else if (line && !line.startsWith('#')) {
          remember(line);
          const reply = await invoke(line);
          if (!(interactive && reply.outcome === 'confirm')) note(reply.outcome);
          write(renderText(reply, { color: interactive }));
          if (interactive && reply.outcome === 'confirm') pendingConfirmation = line;
        }
      } finally {
        busy = false;
      }
      if (interactive) prompt(pendingConfirmation !== undefined ? CONFIRM_PROMPT : PROMPT);
    }
  } finally {
    opts.screen?.prompting(undefined);
    // Recalled by the next prompt if the user decides to stay.
    if (interactive) history.splice(0, history.length, ...((rl as unknown as { history?: string[] }).history ?? history));
    rl.close();
  }
}

/** y leaves; anything else, or Ctrl-C, stays. A second Ctrl-D leaves. */
async function askToLeave(opts: ConsoleOptions, question: string): Promise<boolean> {
  const rl = createInterface({ input: opts.input, output: opts.output, terminal: true, prompt: question });
  return new Promise<boolean>((resolve) => {
    let answered = false;
    const answer = (leave: boolean) => {
      if (answered) return;
      answered = true;
      opts.screen?.prompting(undefined);
      rl.close();
      if (!leave) opts.output.write('Staying.\n');
      resolve(leave);
    };
    rl.on('line', (line) => answer(/^y(es)?$/i.test(line.trim())));
    rl.on('SIGINT', () => {
      opts.output.write('^C\n');
      answer(false);
    });
    rl.on('close', () => answer(true));
    rl.prompt();
    opts.screen?.prompting(rl);
  });
}
