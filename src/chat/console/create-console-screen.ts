import type { Interface } from 'node:readline';
import { clearLine, cursorTo } from 'node:readline';
import type { Writable } from 'node:stream';

export interface ConsoleScreen {
  /** Prints a block of text; while a prompt waits for input, above it, then redraws the prompt and what was typed. */
  print(text: string): void;
  /** The readline interface whose prompt is showing now, or undefined while none is (a command is running). */
  prompting(rl: Interface | undefined): void;
}

/**
 * The terminal shared by the console's prompt and messages that arrive on their own (alerts, incident
 * threads), so an alert never lands in the middle of a half-typed command.
 */
export function createConsoleScreen(output: Writable): ConsoleScreen {
  let active: Interface | undefined;
  return {
    print(text) {
      const block = text.endsWith('\n') ? text : `${text}\n`;
      if (!active) {
        output.write(block);
        return;
      }
      clearLine(output, 0);
      cursorTo(output, 0);
      output.write(block);
      active.prompt(true); // prompt and the typed text again, cursor where it was
    },
    prompting(rl) {
      active = rl;
    },
  };
}
