/**
 * Splits chat text into words, honouring "double", 'single' and “smart” quotes (Slack and phones turn
 * straight quotes into curly ones) and backslash escapes. Never throws: an unclosed quote runs to the end.
 */
const OPEN_TO_CLOSE: Record<string, string> = { '"': '"', "'": "'", '“': '”', '”': '”', '‘': '’', '’': '’', '„': '“' };

export function tokenize(text: string): string[] {
  return tokenizeWords(text).map((w) => w.text);
}

export interface Word {
  text: string;
  /** The word began with a quote: it is a value as typed, never a flag such as --yes or --help. */
  literal: boolean;
}

export function tokenizeWords(text: string): Word[] {
  const words: Word[] = [];
  let current = '';
  let inWord = false;
  let literal = false;
  let close: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (close) {
      if (c === close || (close === '”' && c === '"')) close = undefined;
      else if (c === '\\' && i + 1 < text.length && text[i + 1] === close) current += text[++i];
      else current += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push({ text: current, literal });
      current = '';
      inWord = false;
      literal = false;
      continue;
    }
    // A quote opens only at the start of a word or a value (`--reason="…"`), so "don't" stays one word.
    const closer = !inWord || current.endsWith('=') ? OPEN_TO_CLOSE[c] : undefined;
    if (closer && !inWord) literal = true;
    inWord = true;
    if (closer) close = closer;
    else if (c === '\\' && i + 1 < text.length) current += text[++i];
    else current += c;
  }
  if (inWord) words.push({ text: current, literal });
  return words;
}
