import {
  ApplicationCommandOptionType,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandInteractionDataSubcommandOption,
  type APIChatInputApplicationCommandInteractionData,
} from '@discordjs/core/http-only';
import type { CommandGroupDef, SubcommandDef } from '../../framework/define-command.js';
import { describeOptions, type OptionDescriptor } from '../../framework/describe-options.js';
import type { Registry } from '../../framework/registry.js';
import { discordOptionName, isFlatGroup, ROOT_COMMAND } from './build-discord-commands.js';

export interface CommandPath {
  group: CommandGroupDef;
  sub: SubcommandDef;
  options: APIApplicationCommandInteractionDataBasicOption[];
}

/** Finds the group and subcommand an `/infra …` interaction names, and the options given to it. */
export function resolveCommandPath(registry: Registry, data: APIChatInputApplicationCommandInteractionData): CommandPath | undefined {
  // `/infra-<group> …`: a group registered as a command of its own (past Discord's 25 options under /infra).
  if (data.name !== ROOT_COMMAND) {
    const group = data.name.startsWith(`${ROOT_COMMAND}-`) ? registry.group(data.name.slice(ROOT_COMMAND.length + 1)) : undefined;
    if (!group) return undefined;
    const given = (data.options ?? []) as (APIApplicationCommandInteractionDataBasicOption | APIApplicationCommandInteractionDataSubcommandOption)[];
    if (isFlatGroup(group)) return { group, sub: group.subcommands[0]!, options: given as APIApplicationCommandInteractionDataBasicOption[] };
    const inner = given[0];
    const sub = inner && inner.type === ApplicationCommandOptionType.Subcommand ? group.subcommands.find((s) => s.name === inner.name) : undefined;
    return inner && sub ? { group, sub, options: (inner as APIApplicationCommandInteractionDataSubcommandOption).options ?? [] } : undefined;
  }
  const top = data.options?.[0];
  if (!top) return undefined;
  const group = registry.group(top.name);
  if (!group) return undefined;
  if (top.type === ApplicationCommandOptionType.Subcommand && isFlatGroup(group)) {
    return { group, sub: group.subcommands[0]!, options: top.options ?? [] };
  }
  if (top.type === ApplicationCommandOptionType.SubcommandGroup) {
    const inner = top.options[0];
    const sub = inner && group.subcommands.find((s) => s.name === inner.name);
    if (!inner || !sub) return undefined;
    return { group, sub, options: inner.options ?? [] };
  }
  return undefined;
}

/** Words the parser would read as something other than a value when bare. */
const looksLikeFlag = (v: string) => v.startsWith('-');
const isPlainWord = (v: string) => v !== '' && /^[^\s"'“”‘’„\\]+$/.test(v);

/** Quotes a value so `tokenize` gives it back unchanged. */
export function quoteValue(value: string): string {
  if (isPlainWord(value)) return value;
  // Inside "…" only \" is an escape; a trailing backslash would escape the closing quote, so escape every special character instead.
  if (!value.endsWith('\\')) return `"${value.replace(/"/g, '\\"')}"`;
  return value.replace(/[\s"'“”‘’„\\]/g, (c) => `\\${c}`);
}

function optionValue(
  o: OptionDescriptor,
  given: APIApplicationCommandInteractionDataBasicOption,
  resolved: APIChatInputApplicationCommandInteractionData['resolved'],
): string {
  switch (given.type) {
    case ApplicationCommandOptionType.User:
      return `discord:${given.value}`;
    case ApplicationCommandOptionType.Role:
      return `discord-role:${given.value}`;
    case ApplicationCommandOptionType.Mentionable:
      return resolved?.roles?.[given.value] ? `discord-role:${given.value}` : `discord:${given.value}`;
    case ApplicationCommandOptionType.Boolean:
    case ApplicationCommandOptionType.Integer:
    case ApplicationCommandOptionType.Number:
    case ApplicationCommandOptionType.String:
      return String(given.value);
    default:
      throw new Error(`option ${o.name} arrived with unsupported Discord type ${given.type}`);
  }
}

/**
 * Turns a slash-command interaction back into the canonical text `group sub <positional…> --flag value`,
 * so the pipeline parses, validates, audits and explains it exactly as it would typed text.
 */
export function interactionToText(registry: Registry, data: APIChatInputApplicationCommandInteractionData): string | undefined {
  const path = resolveCommandPath(registry, data);
  if (!path) return undefined;
  const { group, sub } = path;
  const byName = new Map(path.options.map((o) => [o.name, o]));
  const words: string[] = [];
  const flags: string[] = [];
  let positionalRun = true;
  for (const o of describeOptions(sub)) {
    const given = byName.get(discordOptionName(o));
    if (!given) {
      // A later positional given bare would land in this one's slot: name the rest explicitly.
      if (o.position !== undefined) positionalRun = false;
      continue;
    }
    const value = optionValue(o, given, data.resolved);
    if (o.type === 'boolean') {
      flags.push(value === 'true' ? o.flag : `${o.flag}=false`);
    } else if (o.position !== undefined && positionalRun && !looksLikeFlag(value)) {
      words.push(quoteValue(value));
    } else {
      if (o.position !== undefined) positionalRun = false;
      // `--flag=value` keeps values that start with a dash from being read as flags.
      flags.push(looksLikeFlag(value) ? `${o.flag}=${quoteValue(value)}` : `${o.flag} ${quoteValue(value)}`);
    }
  }
  const head = [group.name];
  // Name the subcommand unless the group has only its default one and the first word cannot be mistaken for a subcommand.
  const first = words[0]?.toLowerCase();
  const omitSub = isFlatGroup(group) && group.defaultSubcommand === sub.name && !group.subcommands.some((s) => s.name === first);
  if (!omitSub) head.push(sub.name);
  return [...head, ...words, ...flags].join(' ');
}

/** The option being typed in an autocomplete interaction, and what the user has typed so far. */
export function focusedOption(
  registry: Registry,
  data: APIChatInputApplicationCommandInteractionData,
): { descriptor?: OptionDescriptor; value: string } | undefined {
  const path = resolveCommandPath(registry, data);
  const focused = findFocused(data.options ?? []);
  if (!focused) return undefined;
  const descriptor = path ? describeOptions(path.sub).find((o) => discordOptionName(o) === focused.name) : undefined;
  return { ...(descriptor ? { descriptor } : {}), value: String(focused.value ?? '') };
}

function findFocused(options: readonly APIApplicationCommandInteractionDataOption[]): { name: string; value: unknown } | undefined {
  for (const o of options) {
    if ('focused' in o && o.focused) return { name: o.name, value: o.value };
    if ('options' in o && o.options) {
      const inner = findFocused(o.options);
      if (inner) return inner;
    }
  }
  return undefined;
}
