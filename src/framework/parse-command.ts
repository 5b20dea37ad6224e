import type { z } from 'zod';
import type { CommandGroupDef, SubcommandDef } from './define-command.js';
import { describeOptions, toFlag, usageLine, type OptionDescriptor } from './describe-options.js';
import { describeInputProblems, describeRange } from './describe-input-problems.js';
import { UserError, usage } from '../user-error.js';
import { commandName, isDefaultSub, type Registry } from './registry.js';
import { tokenizeWords } from './tokenize.js';
import { suggest } from '../util/suggest.js';
import { quoteForMessage as quoted } from '../util/quote-for-message.js';
import { normalizeSubject } from '../auth/subjects.js';

export type ParsedCommand =
  | { kind: 'help'; topic?: string }
  | {
      kind: 'command';
      group: CommandGroupDef;
      sub: SubcommandDef;
      name: string;
      args: Record<string, unknown>;
      confirmed: boolean;
    };

const LEADING = /^\/?infra$/i;

/**
 * Turns chat text into a validated command. Every problem becomes a UserError naming the command,
 * the option and what was expected, with the usage line as a hint; it never throws anything else.
 */
export function parseCommand(registry: Registry, text: string, callerPlatform: string): ParsedCommand {
  const { words: tokens, unclosed, danglingEscape } = tokenizeWords(text);
  if (danglingEscape) {
    throw usage('The text ends in a backslash, which escapes nothing. Nothing was run.', 'Remove it, or write two (\\\\) for a backslash as a character.');
  }
  if (unclosed) {
    throw usage(
      `Unbalanced quote: the ${unclosed.quote} that opens ${JSON.stringify(unclosed.word)} is never closed, so it is unclear where the value ends. Nothing was run.`,
      `Close the quote, or put a backslash before a quote meant as a character (\\${unclosed.close}).`,
    );
  }
  // Quoted words are values as typed: marked so that "--yes" or "--help" in quotes is never taken as a flag.
  const words = tokens.map((t) => (t.literal ? LITERAL + t.text : t.text));
  if (words[0] !== undefined && LEADING.test(words[0])) words.shift();
  const first = words.shift()?.replace(LITERAL_PREFIX, '');
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    return { kind: 'help', ...(words[0] ? { topic: words.map(unmark).join(' ') } : {}) };
  }
  const group = registry.group(first.toLowerCase());
  if (!group) {
    const guess = suggest(first, registry.groups.map((g) => g.name));
    throw new UserError(
      'infra_unknown_command',
      `Unknown command ${quoted(first)}.${guess ? ` Did you mean "${guess}"?` : ''}`,
      'Type `help` to list commands.',
    );
  }
  const named = words[0] !== undefined ? group.subcommands.find((s) => s.name === unmark(words[0]!).toLowerCase()) : undefined;
  let sub: SubcommandDef | undefined = named;
  if (named) words.shift();
  else if (group.defaultSubcommand) sub = group.subcommands.find((s) => s.name === group.defaultSubcommand);
  if (!sub) {
    const names = group.subcommands.map((s) => s.name);
    const given = words[0] !== undefined ? unmark(words[0]) : undefined;
    const guess = given ? suggest(given, names) : undefined;
    throw usage(
      given
        ? `Unknown subcommand ${quoted(given)} for "${group.name}".${guess ? ` Did you mean "${guess}"?` : ''}`
        : `"${group.name}" needs a subcommand: ${names.join(', ')}.`,
      `Usage: ${group.subcommands.map((s) => usageLine(group.name, s, isDefaultSub(group, s))).join('  |  ')}`,
    );
  }
  if (words.includes('--help') || words.includes('-h')) return { kind: 'help', topic: commandName(group, sub) };
  // The usage line in the form typed: `audit search --limit 0` is answered with `audit search …`.
  const { args, confirmed } = parseArguments(group, sub, words, callerPlatform, isDefaultSub(group, sub) && !named);
  return { kind: 'command', group, sub, name: commandName(group, sub), args, confirmed };
}

function parseArguments(group: CommandGroupDef, sub: SubcommandDef, words: string[], callerPlatform: string, bare: boolean) {
  const options = describeOptions(sub);
  const line = usageLine(group.name, sub, bare);
  const fail = (message: string): never => {
    throw usage(`${commandName(group, sub)}: ${message}`, `Usage: ${line}`);
  };
  const byFlag = new Map<string, OptionDescriptor>();
  for (const o of options) {
    byFlag.set(o.flag, o);
    byFlag.set(`--${o.name}`, o);
  }
  const positional = options.filter((o) => o.position !== undefined);
  const raw: Record<string, string | boolean> = {};
  let confirmed = false;
  let nextPositional = 0;

  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--yes' || word === '-y') {
      confirmed = true;
      continue;
    }
    if (word.startsWith('--') && word.length > 2) {
      const eq = word.indexOf('=');
      const flag = (eq > 0 ? word.slice(0, eq) : word).toLowerCase();
      const o = byFlag.get(flag);
      if (!o) {
        const guess = suggest(flag, [...new Set(options.map((x) => x.flag))]);
        fail(`unknown option ${flag}.${guess ? ` Did you mean ${guess}?` : ''}`);
        continue;
      }
      if (o.name in raw) fail(`${o.flag} was given twice.`);
      if (eq > 0) raw[o.name] = word.slice(eq + 1);
      else if (o.type === 'boolean') raw[o.name] = true;
      else {
        // Free-text values may run over several unquoted words ("--reason disk is full"), up to the next flag.
        const takesWords = o.type === 'string' && !o.choices && !o.infraType;
        const values: string[] = [];
        while (i + 1 < words.length && !isFlag(words[i + 1]!) && (takesWords || values.length === 0)) values.push(unmark(words[++i]!));
        if (values.length === 0) fail(`${o.flag} needs a value.`);
        raw[o.name] = values.join(' ');
      }
      continue;
    }
    const o = positional[nextPositional];
    if (!o) fail(`unexpected ${quoted(unmark(word))}. Quote values that contain spaces.`);
    else {
      // The last positional of free text takes the rest of the bare words (`incident declare Database down`).
      const rest = o === positional.at(-1) && o.type === 'string' && !o.choices && !o.infraType;
      const values = [unmark(word)];
      while (rest && i + 1 < words.length && !isFlag(words[i + 1]!)) values.push(unmark(words[++i]!));
      raw[o.name] = values.join(' ');
      nextPositional++;
    }
  }

  const input: Record<string, unknown> = {};
  for (const o of options) {
    const value = raw[o.name];
    if (value === undefined) continue;
    input[o.name] = coerce(o, value, fail, callerPlatform);
  }
  const result = sub.options.safeParse(input);
  if (!result.success) fail(describeIssues(result.error.issues, options, input));
  return { args: result.success ? (result.data as Record<string, unknown>) : {}, confirmed };
}

const isFlag = (w: string) => (w.startsWith('--') && w.length > 2) || w === '-y';

/** Marks a quoted word; no typed text starts with this control character, and it is removed before use. */
const LITERAL = '\u0000';
const LITERAL_PREFIX = /^\u0000/;
const unmark = (w: string) => w.replace(LITERAL_PREFIX, '');

function coerce(o: OptionDescriptor, value: string | boolean, fail: (m: string) => never, callerPlatform: string): unknown {
  const label = o.position !== undefined ? `<${o.name}>` : o.flag;
  if (o.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (/^(true|yes|on|1)$/i.test(value)) return true;
    if (/^(false|no|off|0)$/i.test(value)) return false;
    return fail(`${label} takes true or false, not ${quoted(value)}.`);
  }
  const text = String(value);
  if (o.type === 'integer' || o.type === 'number') {
    const n = parseDecimal(text, o.type === 'integer');
    if (n === undefined || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
      return fail(`${label} must be ${o.type === 'integer' ? 'a whole number' : 'a number'} ${describeRange(o)}, not ${quoted(text)}.`);
    }
    return n;
  }
  if (o.maxLength !== undefined && text.trim().length > o.maxLength) {
    return fail(
      `${label} is ${big(text.trim().length)} characters long; the limit is ${big(o.maxLength)}, so that it fits in a Slack or Discord message. Shorten it (nothing was cut or stored).`,
    );
  }
  if (o.choices && !o.choices.includes(text.toLowerCase())) {
    return fail(`${label} must be one of ${o.choices.join(', ')}, not ${quoted(text)}.`);
  }
  if (o.choices) return text.toLowerCase();
  if (o.infraType === 'user') return normalizeSubject(text, callerPlatform);
  return text;
}

/**
 * Plain decimal numbers as people type them: digits, optionally grouped in thousands with commas or
 * underscores (1,000 or 1_000). Hex, exponents, Infinity and the like are refused: `0x10` or `1e3` in a
 * rate limit is far more likely a slip than a wish.
 */
const DECIMAL = /^[+-]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:_\d{3})+|\d+)$/;
const FRACTION = /^[+-]?\d+(?:\.\d+)?$/;

function parseDecimal(text: string, whole: boolean): number | undefined {
  const t = text.trim();
  if (!(DECIMAL.test(t) || (!whole && FRACTION.test(t)))) return undefined;
  const n = Number(t.replace(/[,_]/g, ''));
  return Number.isSafeInteger(n) || (!whole && Number.isFinite(n)) ? n : undefined;
}

const big = (n: number) => n.toLocaleString('en-US');

function describeIssues(issues: z.core.$ZodIssue[], options: OptionDescriptor[], input: Record<string, unknown>): string {
  const label = (name: string) => {
    const o = options.find((x) => x.name === name);
    return o?.position !== undefined ? `<${o.name}>` : (o?.flag ?? toFlag(name));
  };
  return describeInputProblems(issues, { options, input, label, unknownKind: 'option' }).join(' ');
}
