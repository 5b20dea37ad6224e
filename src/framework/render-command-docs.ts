import { MIN_REASON, TEXT_LIMITS } from './define-command.js';
import { describeOptions, usageLine, type OptionDescriptor } from './describe-options.js';
import { renderDataShape } from './render-data-shape.js';
import { commandName, isDefaultSub, type Registry } from './registry.js';

/** docs/commands.md, generated from the command definitions so it cannot drift from what the bot accepts. */
export function renderCommandDocs(registry: Registry): string {
  const out: string[] = [
    '# Commands reference',
    '',
    '<!-- Generated from commands/*.ts by `npm run docs`. Do not edit by hand: a test fails when it is stale. -->',
    '',
    'Type these after `/infra` in Slack or Discord, or as they are in the console (`infrabot console`) and',
    'the CLI (`infrabot run "<command>"`). Values with spaces take quotes; free-text options such as',
    '`--reason` also take the unquoted words up to the next `--flag`. Add `--help` to any command for its',
    'usage. Dangerous actions ask for confirmation: a button in chat, `y` in the console, `--yes` anywhere.',
    '',
    'Roles: **viewer** reads, **operator** acts on the clusters it is granted, **admin** does everything.',
    '',
    'Every reply also carries structured **data** for scripts: booleans, numbers, ISO 8601 times and ids, never',
    'emoji or display text. `infrabot run --json "<command>"` prints `{outcome, data, traceId, time}`, or',
    '`{outcome, error: {code, message}, traceId, time}` when the command did not run (`confirmWith` adds the',
    '`--yes` form of a command that needs confirmation); the HTTP API returns the same `data` ([api.md](api.md)).',
    'The shape of each command\'s data is listed under it; `?` marks a key that may be absent, `| null` a value',
    'that may be null.',
    '',
    '## How values are read',
    '',
    '- **Quotes** must be closed: `--reason \'disk full` is refused ("Unbalanced quote …") rather than guessed,',
    '  because a guess could swallow `--yes` or the next option. A quote meant as a character takes a',
    '  backslash (`it\\\'s`); an apostrophe inside a word (`don\'t`) needs none. A line cannot end in a single',
    '  backslash (it escapes nothing, and would swallow a `--yes` typed after it).',
    '- **Numbers** are plain decimal integers: `1000`, or grouped in thousands as `1,000` or `1_000`. Hex',
    '  (`0x10`), exponents (`1e3`), fractions and anything else are refused with the option and its range.',
    '- **Ids** are taken exactly as replies show them: incidents as `INC-12`, `inc-12` or `12`; alerts by the id',
    '  after "alert" in a notification or `alert list` (in any case; several at once separated by spaces).',
    `- **Text limits**, so every value fits whole in one Slack or Discord message (a Slack header holds 150`,
    `  characters, a Discord embed field 1,024): titles ${TEXT_LIMITS.title} characters, reasons ${MIN_REASON} to ${TEXT_LIMITS.reason}, incident updates and`,
    `  summaries ${TEXT_LIMITS.message.toLocaleString('en-US')}, names and search terms ${TEXT_LIMITS.name}. Longer values are refused with the limit in the`,
    '  message; nothing is ever cut.',
    '- **Control characters** (escape sequences, carriage returns, bidi overrides) are stored as typed and shown',
    '  as visible escapes (`\\x1b`) in the console and CLI, so pasted text cannot rewrite a terminal.',
    '',
  ];
  for (const g of registry.groups) {
    out.push(`## ${g.name}`, '', g.summary, '');
    for (const s of g.subcommands) {
      const name = commandName(g, s);
      out.push(`### \`${name}\``, '', s.summary, '');
      out.push('```', usageLine(g.name, s, isDefaultSub(g, s)), '```', '');
      const role = s.role === 'anyone' ? 'anyone, even without a role' : `${s.role}${s.clusterOf ? ' (on the cluster named)' : ''}`;
      out.push(`- Needs: ${role}${s.dangerous ? '; asks for confirmation' : ''}`);
      for (const o of describeOptions(s)) {
        const label = o.position !== undefined ? `\`<${o.name}>\`` : `\`${o.flag}\``;
        const extra = [
          o.required ? 'required' : 'optional',
          o.choices ? `one of ${o.choices.join(', ')}` : o.type !== 'string' ? o.type : '',
          o.defaultValue !== undefined ? `default ${String(o.defaultValue)}` : '',
          range(o),
        ].filter(Boolean);
        out.push(`- ${label}: ${o.description} (${extra.join('; ')})`);
      }
      if (s.examples.length) {
        out.push('', 'Examples:', '', '```', ...s.examples, '```');
      }
      out.push('', 'Data (`infrabot run --json`, HTTP API `data`):', '', '```ts', renderDataShape(s.data), '```');
      out.push('');
    }
  }
  return out.join('\n');
}

/** "1 to 4", "at most 1,000 characters": what the parser enforces, so the reference says it too. */
function range(o: OptionDescriptor): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const min = o.min !== undefined && o.min > Number.MIN_SAFE_INTEGER ? o.min : undefined;
  const max = o.max !== undefined && o.max < Number.MAX_SAFE_INTEGER ? o.max : undefined;
  if (min !== undefined && max !== undefined) return `${n(min)} to ${n(max)}`;
  if (min !== undefined) return `at least ${n(min)}`;
  if (o.maxLength !== undefined) return `at most ${n(o.maxLength)} characters`;
  return '';
}
