import { quoteForMessage } from '../util/quote-for-message.js';
import { z } from 'zod';
import type { CommandGroupDef } from './define-command.js';
import { describeOptions, usageLine } from './describe-options.js';
import type { HandlerReply } from './reply.js';
import { commandName, isDefaultSub, type Registry } from './registry.js';
import { suggest } from '../util/suggest.js';

export const helpData = z.object({
  topic: z.string().nullable(),
  commands: z.array(
    z.object({
      command: z.string(),
      usage: z.string(),
      summary: z.string(),
      role: z.enum(['anyone', 'viewer', 'operator', 'admin']),
      dangerous: z.boolean(),
    }),
  ),
});

const commandsOf = (groups: readonly CommandGroupDef[], only?: string) =>
  groups.flatMap((g) =>
    g.subcommands
      .filter((s) => !only || s.name === only)
      .map((s) => ({ command: commandName(g, s), usage: usageLine(g.name, s, isDefaultSub(g, s)), summary: s.summary, role: s.role, dangerous: Boolean(s.dangerous) })),
  );

/** Help is derived from the command definitions: an overview, or one group's subcommands in detail. */
export function renderHelp(registry: Registry, topic?: string): { ok: boolean; reply: HandlerReply<z.output<typeof helpData>> } {
  if (!topic) {
    return {
      ok: true,
      reply: {
        title: 'infrabot commands',
        text: 'Type `help <command>` for options and examples. The leading /infra is optional.',
        table: { columns: ['command', 'what it does'], rows: registry.groups.map((g) => [g.name, g.summary]) },
        data: { topic: null, commands: commandsOf(registry.groups) },
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
      data: { topic: topic.trim().toLowerCase(), commands: commandsOf([group], subs.length > 0 ? subName : undefined) },
    },
  };
}
