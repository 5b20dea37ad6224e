import type { CommandGroupDef, SubcommandDef } from './define-command.js';

export interface Registry {
  groups: readonly CommandGroupDef[];
  group(name: string): CommandGroupDef | undefined;
}

/** Builds the command registry once at start-up; a duplicate name is a programming error and fails loudly. */
export function createRegistry(groups: readonly CommandGroupDef[]): Registry {
  const byName = new Map<string, CommandGroupDef>();
  for (const g of groups) {
    if (byName.has(g.name)) throw new Error(`duplicate command group "${g.name}"`);
    const subs = new Set<string>();
    for (const s of g.subcommands) {
      if (subs.has(s.name)) throw new Error(`duplicate subcommand "${g.name} ${s.name}"`);
      subs.add(s.name);
    }
    if (g.defaultSubcommand && !subs.has(g.defaultSubcommand)) {
      throw new Error(`group "${g.name}" names a missing default subcommand "${g.defaultSubcommand}"`);
    }
    byName.set(g.name, g);
  }
  return { groups, group: (name) => byName.get(name) };
}

export const isDefaultSub = (g: CommandGroupDef, s: SubcommandDef) => g.defaultSubcommand === s.name;

/** `cluster disable`, or just `status` when the subcommand is the group's default. */
export const commandName = (g: CommandGroupDef, s: SubcommandDef) => (g.name === s.name ? g.name : `${g.name} ${s.name}`);
