import type { z } from 'zod';
import { suggest } from '../util/suggest.js';

/** Zod's internal definition, read only to find which keys a config section accepts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- zod's `_zod.def` is untyped across schema kinds
type AnySchema = any;

const WRAPPERS = new Set(['default', 'optional', 'nullable', 'prefault', 'catch', 'readonly', 'nonoptional']);

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 20 && cur?._zod?.def; i++) {
    const def = cur._zod.def;
    if (WRAPPERS.has(def.type)) cur = def.innerType;
    else if (def.type === 'pipe') cur = def.in;
    else break;
  }
  return cur;
}

function child(s: AnySchema, seg: string | number | symbol): AnySchema[] {
  const u = unwrap(s);
  const def = u?._zod?.def;
  if (!def) return [];
  if (def.type === 'object') return Object.hasOwn(def.shape, seg) ? [def.shape[seg as string]] : [];
  if (def.type === 'array') return [def.element];
  if (def.type === 'record') return [def.valueType];
  if (def.type === 'union') return (def.options as AnySchema[]).flatMap((o) => child(o, seg));
  return [];
}

/** The keys the config accepts at `path`, for "did you mean". */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes: AnySchema[] = [schema];
  for (const seg of path) nodes = nodes.flatMap((n) => child(n, seg));
  const keys = new Set<string>();
  const collect = (n: AnySchema) => {
    const def = unwrap(n)?._zod?.def;
    if (def?.type === 'object') Object.keys(def.shape).forEach((k) => keys.add(k));
    if (def?.type === 'union') (def.options as AnySchema[]).forEach(collect);
  };
  nodes.forEach(collect);
  return [...keys];
}

const shown = (v: unknown) => (v === undefined ? 'nothing' : typeof v === 'string' ? `"${v}"` : JSON.stringify(v));
const didYouMean = (value: unknown, candidates: readonly string[]) => {
  const hit = typeof value === 'string' ? suggest(value, candidates) : undefined;
  return hit ? ` (did you mean "${hit}"?)` : '';
};

/** What one branch of a union expected, in words. */
function expected(issues: readonly z.core.$ZodIssue[]): string | undefined {
  const first = issues[0];
  if (!first) return undefined;
  if (first.code === 'invalid_type') return first.expected;
  if (first.code === 'invalid_value') return first.values.map((v) => JSON.stringify(v)).join(' or ');
  return undefined;
}

/**
 * One config problem in words an operator can act on: it names the value found, suggests the key or value
 * meant, and never shows zod's raw wording ("Invalid input", "Unrecognized key").
 */
export function describeConfigIssue(issue: z.core.$ZodIssue, schema: z.ZodType): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(schema, issue.path);
      return issue.keys
        .map((k) => `unknown key "${k}"${didYouMean(k, known)}${known.length && !suggest(k, known) ? ` (allowed: ${known.join(', ')})` : ''}`)
        .join('; ');
    }
    case 'invalid_union': {
      const u = issue as z.core.$ZodIssueInvalidUnion & { discriminator?: string; options?: unknown[] };
      if (u.discriminator) {
        const got = input && typeof input === 'object' ? (input as Record<string, unknown>)[u.discriminator] : input;
        const options = (u.options ?? []).map(String);
        return `unknown ${u.discriminator} ${shown(got)}${didYouMean(got, options)}; expected one of ${options.join(', ')}`;
      }
      const alternatives = u.errors.map(expected).filter(Boolean);
      return `${shown(input)} is not valid${alternatives.length ? `: expected ${alternatives.join(' or ')}` : ''}`;
    }
    case 'invalid_key': {
      const why = issue.issues[0]?.message;
      return `the name ${shown(input)} is not allowed${why ? `: ${why}` : ''}`;
    }
    case 'invalid_type':
      return input === undefined ? `missing: expected ${issue.expected}` : `expected ${issue.expected}, got ${shown(input)}`;
    case 'invalid_value':
      return `${shown(input)} is not allowed${didYouMean(input, issue.values.map(String))}; expected one of ${issue.values.map(String).join(', ')}`;
    default: {
      const primitive = typeof input === 'string' || typeof input === 'number';
      return primitive && !issue.message.includes(String(input)) ? `${issue.message} (got ${shown(input)})` : issue.message;
    }
  }
}
