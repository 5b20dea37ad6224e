/**
 * Splits chat text into words, honouring "double", 'single' and “smart” quotes (Slack and phones turn
 * straight quotes into curly ones) and backslash escapes. Never throws: an unclosed quote runs to the end and
 * is reported in `unclosed` (the parser refuses it: a guess at where the value ends would run the wrong thing).
 */
const OPEN_TO_CLOSE: Record<string, string> = { '"': '"', "'": "'", '“': '”', '”': '”', '‘': '’', '’': '’', '„': '“' };

export function tokenize(text: string): string[] {
  return tokenizeWords(text).words.map((w) => w.text);
}

export interface Word {
  text: string;
  /** The word began with a quote: it is a value as typed, never a flag such as --yes or --help. */
  literal: boolean;
}

export interface Tokens {
  words: Word[];
  /** The quote character and the word it opened, when a quote is never closed. */
  /** `close`: the quote that would end it (a backslash before it makes it a character). */
  unclosed?: { quote: string; close: string; word: string };
  /** The text ends in a lone backslash: it escapes nothing, and `… \\ --yes` would swallow the --yes. */
  danglingEscape?: boolean;
}

export function tokenizeWords(text: string): Tokens {
  const words: Word[] = [];
  let opened = { quote: '', at: 0 };
  let current = '';
  // The last character added: `current.endsWith('=')` would flatten the growing string on every character,
  // which made a 100 KB word take seconds.
  let last = '';
  let inWord = false;
  let literal = false;
  let close: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (close) {
      if (c === close || (close === '”' && c === '"')) close = undefined;
      else if (c === '\\' && i + 1 < text.length && text[i + 1] === close) current += last = text[++i]!;
      else current += last = c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push({ text: current, literal });
      current = last = '';
      inWord = false;
      literal = false;
      continue;
    }
    // A quote opens only at the start of a word or a value (`--reason="…"`), so "don't" stays one word.
    const closer = !inWord || last === '=' ? OPEN_TO_CLOSE[c] : undefined;
    if (closer && !inWord) literal = true;
    inWord = true;
    if (closer) {
      close = closer;
      opened = { quote: c, at: i };
    }
    else if (c === '\\' && i + 1 < text.length) current += last = text[++i]!;
    else current += last = c;
  }
  if (inWord) words.push({ text: current, literal });
  if (!close) return endsInLoneBackslash(text) ? { words, danglingEscape: true } : { words };
  const word = /\S*/y.exec(text.slice(opened.at, opened.at + 60))![0];
  return { words, unclosed: { quote: opened.quote, close, word: word.length > 40 ? word.slice(0, 40) + '…' : word } };
}

/** An odd number of backslashes at the end: the last one escapes nothing. */
function endsInLoneBackslash(text: string): boolean {
  let n = 0;
  while (n < text.length && text[text.length - 1 - n] === '\\') n++;
  return n % 2 === 1;
}
