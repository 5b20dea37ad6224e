/**
 * Control characters a terminal would act on instead of print: C0 (ESC, CR, BS, …), DEL, C1 (an 8-bit CSI
 * is U+009B) and the bidirectional overrides that reorder what is shown. User text (a --reason, an incident
 * title, an audit record's raw text) is stored as typed; these are shown as visible escapes when it is
 * rendered, so `evil\x1b[2K\rinnocent` cannot erase or hide anything in an admin's terminal.
 */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_NEWLINE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const visible = (c: string) => {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** `keepNewlines` for multi-line text; titles, cells and one-line values get `\n` shown as an escape too. */
export function escapeTerminalText(s: string, opts: { keepNewlines?: boolean } = {}): string {
  return s.replace(opts.keepNewlines ? CONTROL : CONTROL_OR_NEWLINE, visible);
}

/** JSON for a terminal: JSON.stringify already escapes C0; C1 and bidi controls get \u escapes too (same value). */
export function escapeJsonForTerminal(json: string): string {
  return json.replace(/[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
