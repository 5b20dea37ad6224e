import { z } from 'zod';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  description?: string;
}

/**
 * A subcommand's `data` schema as a short, TypeScript-like type for docs/commands.md: one property a line,
 * its description as a comment, ISO times marked. Generated, so the docs cannot drift from the data.
 */
export function renderDataShape(schema: z.ZodType): string {
  return render(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema, '');
}

function render(s: JsonSchema, indent: string): string {
  if (s.anyOf) return s.anyOf.map((x) => render(x, indent)).join(' | ');
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const type = Array.isArray(s.type) ? s.type.join(' | ') : s.type;
  if (type === 'array') {
    const item = render(s.items ?? {}, indent);
    return item.includes(' | ') && !item.startsWith('{') ? `(${item})[]` : `${item}[]`;
  }
  if (type === 'object') {
    const entries = Object.entries(s.properties ?? {});
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    const required = new Set(s.required ?? []);
    const lines = entries.map(([k, v]) => {
      const note = v.description ? `  // ${v.description}` : '';
      return `${inner}${k}${required.has(k) ? '' : '?'}: ${render(v, inner)}${note}`;
    });
    return `{\n${lines.join('\n')}\n${indent}}`;
  }
  if (type === 'string' && s.format === 'date-time') return 'string (ISO 8601 time)';
  if (type === 'integer') return 'integer';
  return type ?? 'unknown';
}
