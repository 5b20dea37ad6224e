import { quoteForMessage } from '../util/quote-for-message.js';
import { describeOptions, usageLine } from './describe-options.js';
import type { HandlerReply } from './reply.js';
import { isDefaultSub, type Registry } from './registry.js';
import { suggest } from '../util/suggest.js';

/** Help is derived from the command definitions: an overview, or one group's subcommands in detail. */
export function renderHelp(registry: Registry, topic?: string): { ok: boolean; reply: HandlerReply } {
  if (!topic) {
    return {
      ok: true,
      reply: {
        title: 'infrabot commands',
        text: 'Type `help <command>` for options and examples. The leading /infra is optional.',
        table: { columns: ['command', 'what it does'], rows: registry.groups.map((g) => [g.name, g.summary]) },
      },
    };
  }
  const [groupName, subName] = topic.trim().toLowerCase().split(/\s+/);
  const group = registry.group(groupName ?? '');
  if (!group) {
    const guess = suggest(groupName ?? '', registry.groups.map((g) => g.name));
    return {
      ok: false,
      reply: { title: `No command ${quoteForMessage(groupName ?? '')}`, text: guess ? `Did you mean "${guess}"?` : 'Type `help` to list commands.' },
    };
  }
  const subs = group.subcommands.filter((s) => !subName || s.name === subName);
  const shown = subs.length > 0 ? subs : group.subcommands;
  const lines: string[] = [];
  for (const s of shown) {
    lines.push(`• ${usageLine(group.name, s, isDefaultSub(group, s))}`);
    lines.push(`  ${s.summary} Needs: ${s.role}${s.clusterOf ? ' on the cluster' : ''}.${s.dangerous ? ' Asks for confirmation.' : ''}`);
    for (const o of describeOptions(s)) {
      const label = o.position !== undefined ? `<${o.name}>` : o.flag;
      const dflt = o.defaultValue !== undefined ? ` (default ${String(o.defaultValue)})` : '';
      lines.push(`    ${label}: ${o.description}${o.required ? '' : dflt}`);
    }
    for (const e of s.examples) lines.push(`    e.g. ${e}`);
  }
  return {
    ok: true,
    reply: {
      title: `${group.name}: ${group.summary}`,
      text: lines.join('\n'),
    },
  };
}
