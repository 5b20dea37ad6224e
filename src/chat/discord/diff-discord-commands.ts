import type { APIApplicationCommand, RESTPostAPIChatInputApplicationCommandsJSONBody } from '@discordjs/core/http-only';

/** A command or option as either side describes it: what we send, or what Discord returns (with ids and defaults). */
type CommandLike = RESTPostAPIChatInputApplicationCommandsJSONBody | APIApplicationCommand;

interface Node {
  type?: number;
  name: string;
  description?: string;
  required?: boolean;
  autocomplete?: boolean;
  choices?: { name: string; value: string | number }[];
  options?: Node[];
}

/**
 * The part of a command we own, with Discord's defaults removed, so a command fetched back from Discord
 * (ids, version, `required: false`, empty lists, localisations) compares equal to the one we would send.
 */
function ownFields(n: Node): Record<string, unknown> {
  return {
    type: n.type ?? 1,
    name: n.name,
    description: n.description ?? '',
    ...(n.required ? { required: true } : {}),
    ...(n.autocomplete ? { autocomplete: true } : {}),
    ...(n.choices?.length ? { choices: n.choices.map((c) => ({ name: c.name, value: c.value })) } : {}),
  };
}

/** Flattens commands to `path → own fields` (`/infra cluster disable --reason`) so changes can be named. */
function flatten(commands: readonly CommandLike[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (n: Node, path: string, sibling: number) => {
    // Options are positional in Discord's UI, so their order is part of the definition.
    out.set(path, JSON.stringify({ ...ownFields(n), order: sibling }));
    (n.options ?? []).forEach((child, i) => {
      const isOption = child.type !== undefined && child.type > 2;
      walk(child, `${path} ${isOption ? '--' : ''}${child.name}`, i);
    });
  };
  for (const c of commands) walk(c as Node, `/${c.name}`, 0);
  return out;
}

/** Human-readable differences (`+ added`, `- removed`, `~ changed`); empty when Discord already has our definitions. */
export function diffDiscordCommands(local: readonly CommandLike[], registered: readonly CommandLike[]): string[] {
  const want = flatten(local);
  const have = flatten(registered);
  const changes: string[] = [];
  for (const [path, def] of want) {
    const old = have.get(path);
    if (old === undefined) changes.push(`+ ${path}`);
    else if (old !== def) changes.push(`~ ${path} (${changedKeys(JSON.parse(old), JSON.parse(def)).join(', ')})`);
  }
  for (const path of have.keys()) if (!want.has(path)) changes.push(`- ${path}`);
  return changes;
}

function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}
