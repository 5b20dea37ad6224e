import { describeOptions, usageLine } from './describe-options.js';
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
        ].filter(Boolean);
        out.push(`- ${label}: ${o.description} (${extra.join('; ')})`);
      }
      if (s.examples.length) {
        out.push('', 'Examples:', '', '```', ...s.examples, '```');
      }
      out.push('');
    }
  }
  return out.join('\n');
}
