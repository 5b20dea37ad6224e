import { z } from 'zod';
import type { InfraOptionType, SubcommandDef } from './define-command.js';

/** What adapters and help need to know about one option, derived from its zod schema. */
export interface OptionDescriptor {
  name: string;
  /** `--per-minute` for `perMinute`. */
  flag: string;
  type: 'string' | 'integer' | 'number' | 'boolean';
  choices?: string[];
  required: boolean;
  description: string;
  infraType?: InfraOptionType;
  /** Values besides the infraType's own that the option takes (`history` takes "global" as well as clusters). */
  alsoAccepts?: string[];
  /** Index among positional arguments, if the option can be given as a bare word. */
  position?: number;
  defaultValue?: unknown;
  /** Smallest and largest value of a number option (inclusive). */
  min?: number;
  max?: number;
  /** Longest value of a text option, in characters. */
  maxLength?: number;
}

interface JsonSchemaProp {
  type?: string;
  enum?: unknown[];
  description?: string;
  infraType?: InfraOptionType;
  alsoAccepts?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
}

const cache = new WeakMap<SubcommandDef, OptionDescriptor[]>();

export const toFlag = (name: string) => '--' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

export function describeOptions(sub: SubcommandDef): OptionDescriptor[] {
  const hit = cache.get(sub);
  if (hit) return hit;
  const schema = z.toJSONSchema(sub.options, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonSchemaProp>;
    required?: string[];
  };
  const required = new Set(schema.required ?? []);
  const positionals: readonly string[] = sub.positionals ?? [];
  const out = Object.entries(schema.properties ?? {}).map(([name, p]): OptionDescriptor => {
    const type = p.type === 'integer' || p.type === 'number' || p.type === 'boolean' ? p.type : 'string';
    const position = positionals.indexOf(name);
    const whole = type === 'integer' ? 1 : 0;
    const min = p.minimum ?? (p.exclusiveMinimum !== undefined ? p.exclusiveMinimum + whole : undefined);
    const max = p.maximum ?? (p.exclusiveMaximum !== undefined ? p.exclusiveMaximum - whole : undefined);
    return {
      name,
      flag: toFlag(name),
      type,
      ...(p.enum ? { choices: p.enum.map(String) } : {}),
      required: required.has(name),
      description: p.description ?? name,
      ...(p.infraType ? { infraType: p.infraType } : {}),
      ...(p.alsoAccepts ? { alsoAccepts: p.alsoAccepts } : {}),
      ...(position >= 0 ? { position } : {}),
      ...(p.default !== undefined ? { defaultValue: p.default } : {}),
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
      ...(p.maxLength !== undefined ? { maxLength: p.maxLength } : {}),
    };
  });
  out.sort((a, b) => (a.position ?? 99) - (b.position ?? 99));
  cache.set(sub, out);
  return out;
}

/** `cluster disable <cluster> --reason <text> [--yes]` */
export function usageLine(group: string, sub: SubcommandDef, isDefault: boolean): string {
  const parts = [group];
  if (!isDefault) parts.push(sub.name);
  for (const o of describeOptions(sub)) {
    const value = o.choices ? o.choices.join('|') : `<${o.name}>`;
    const token = o.position !== undefined ? value : o.type === 'boolean' ? o.flag : `${o.flag} ${value}`;
    parts.push(o.required ? token : `[${token}]`);
  }
  if (sub.dangerous) parts.push('[--yes]');
  return parts.join(' ');
}
