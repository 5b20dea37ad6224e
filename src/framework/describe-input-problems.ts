import { quoteForMessage } from '../util/quote-for-message.js';
import { suggest } from '../util/suggest.js';
import type { OptionDescriptor } from './describe-options.js';

/** A zod issue as zod reports it, or rebuilt from fastify's validation errors (the same fields). */
export interface InputIssue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  expected?: unknown;
  keys?: readonly string[];
  params?: { oneOf?: readonly string[] };
}

export interface ProblemContext {
  /** The options the input is for (the command's, in the caller's terms); absent for foreign bodies (webhooks). */
  options?: readonly Pick<OptionDescriptor, 'name' | 'type' | 'description' | 'min' | 'max'>[];
  /** The input as sent, to quote the value that is wrong. */
  input: unknown;
  /** How the caller names an option: `--per-minute` on the CLI and in chat, `perMinute` over HTTP. */
  label: (name: string) => string;
  /** What an unknown key is called: "option" or "field". */
  unknownKind?: string;
}

const big = (n: number) => n.toLocaleString('en-US');

/** "from 1 to 1,000", "of at least 1"… — the range a number option takes, as the CLI states it. */
export function describeRange(o: { min?: number; max?: number }): string {
  const max = o.max !== undefined && o.max < Number.MAX_SAFE_INTEGER ? o.max : undefined;
  const min = o.min !== undefined && o.min > Number.MIN_SAFE_INTEGER ? o.min : undefined;
  if (min !== undefined && max !== undefined) return `from ${big(min)} to ${big(max)}`;
  if (min !== undefined) return `of at least ${big(min)}`;
  if (max !== undefined) return `of at most ${big(max)}`;
  return '(digits only, e.g. 1000 or 1,000)';
}

/** Text in quotes (shortened if long), other JSON values as written (-5, true, null, {…}). */
const shown = (v: unknown) => {
  if (typeof v === 'string') return quoteForMessage(v);
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 60 ? `${json.slice(0, 40)}… (${json.length.toLocaleString('en-US')} characters)` : json;
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/**
 * One sentence per problem, naming the option (or field) and the value, in the same words on every surface:
 * the CLI and chat (flags) and the HTTP API (JSON fields, webhook bodies). Zod's own wording is the fallback.
 */
export function describeInputProblems(issues: readonly InputIssue[], ctx: ProblemContext): string[] {
  return issues.map((issue) => {
    const name = issue.path.map(String).join('.');
    const value = valueAt(ctx.input, issue.path);
    const o = issue.path.length === 1 ? ctx.options?.find((x) => x.name === name) : undefined;
    const label = name ? (o || issue.path.length === 1 ? ctx.label(name) : name) : '';
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      return issue.keys
        .map((k) => {
          const guess = ctx.options ? suggest(k, ctx.options.map((x) => x.name)) : undefined;
          return `unknown ${ctx.unknownKind ?? 'field'} ${quoteForMessage(k)}${label ? ` in ${label}` : ''}.${guess ? ` Did you mean ${ctx.label(guess)}?` : ''}`;
        })
        .join(' ');
    }
    if (issue.params?.oneOf) return `give at least one of ${issue.params.oneOf.map(ctx.label).join(', ')}.`;
    // A missing choice option fails as invalid_value: it is still missing, not an "invalid option".
    if (o && value === undefined && issue.code === 'invalid_value') return `missing ${label} (${o.description}).`;
    if (value === undefined && issue.code === 'invalid_type') return o ? `missing ${label} (${o.description}).` : `${label || 'body'}: expected ${String(issue.expected)}, but it is missing.`;
    if (o && (o.type === 'integer' || o.type === 'number')) {
      return `${label} must be ${o.type === 'integer' ? 'a whole number' : 'a number'} ${describeRange(o)}, not ${shown(value)}.`;
    }
    if (o?.type === 'boolean') return `${label} takes true or false, not ${shown(value)}.`;
    if (issue.code === 'invalid_type') return `${label || 'body'}: expected ${String(issue.expected)}, not ${shown(value)}.`;
    // Name the value refused, unless the message already does.
    const not = typeof value === 'string' && !issue.message.includes(value) ? `, not ${shown(value)}` : '';
    return label ? `${label}: ${issue.message}${not}.` : `${issue.message}${not}.`;
  });
}
