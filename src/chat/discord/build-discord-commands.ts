import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandGroupOption,
  type APIApplicationCommandSubcommandOption,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from '@discordjs/core/http-only';
import type { CommandGroupDef, SubcommandDef } from '../../framework/define-command.js';
import { describeOptions, type OptionDescriptor } from '../../framework/describe-options.js';
import type { Registry } from '../../framework/registry.js';

/** The one slash command every infrabot command lives under. */
export const ROOT_COMMAND = 'infra';

const MAX_DESCRIPTION = 100;
const MAX_OPTIONS = 25;
const NAME_PATTERN = /^[-_\p{Ll}\p{N}]{1,32}$/u;

/** Discord descriptions are limited to 100 characters; cut at a word and say so with an ellipsis. */
export function discordDescription(text: string): string {
  const clean = text.replace(/\s+/g, ' ').trim() || '-';
  if (clean.length <= MAX_DESCRIPTION) return clean;
  const cut = clean.slice(0, MAX_DESCRIPTION - 1);
  const space = cut.lastIndexOf(' ');
  return (space > 60 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, '') + '…';
}

/** Discord option name for an option: its flag without dashes (`perMinute` → `per-minute`). */
export const discordOptionName = (o: OptionDescriptor) => o.flag.slice(2);

/**
 * Whether a group is registered as one SUB_COMMAND (`/infra status`) rather than a SUB_COMMAND_GROUP
 * (`/infra cluster disable`): groups with a single subcommand.
 */
export const isFlatGroup = (g: CommandGroupDef) => g.subcommands.length === 1;

function checkName(name: string, where: string): string {
  if (!NAME_PATTERN.test(name)) throw new Error(`${where}: "${name}" is not a valid Discord command or option name`);
  return name;
}

function toDiscordOption(o: OptionDescriptor, where: string): APIApplicationCommandBasicOption {
  const base = { name: checkName(discordOptionName(o), where), description: discordDescription(o.description), required: o.required };
  // Users and Discord roles are both subjects (`role grant @oncall operator`), so user options are MENTIONABLE.
  if (o.infraType === 'user') return { ...base, type: ApplicationCommandOptionType.Mentionable };
  switch (o.type) {
    case 'integer':
      return { ...base, type: ApplicationCommandOptionType.Integer };
    case 'number':
      return { ...base, type: ApplicationCommandOptionType.Number };
    case 'boolean':
      return { ...base, type: ApplicationCommandOptionType.Boolean };
    case 'string':
      if (o.choices) {
        if (o.choices.length > MAX_OPTIONS) throw new Error(`${where}: ${o.name} has more than ${MAX_OPTIONS} choices`);
        return { ...base, type: ApplicationCommandOptionType.String, choices: o.choices.map((c) => ({ name: c, value: c })) };
      }
      if (o.infraType === 'cluster') return { ...base, type: ApplicationCommandOptionType.String, autocomplete: true };
      return { ...base, type: ApplicationCommandOptionType.String };
  }
}

function subcommandOptions(sub: SubcommandDef, where: string): APIApplicationCommandBasicOption[] {
  const options = describeOptions(sub);
  if (options.length > MAX_OPTIONS) throw new Error(`${where} has more than ${MAX_OPTIONS} options`);
  // Discord demands required options before optional ones; otherwise keep positional order.
  const sorted = [...options].sort((a, b) => Number(b.required) - Number(a.required));
  return sorted.map((o) => toDiscordOption(o, where));
}

function toSubcommand(name: string, summary: string, sub: SubcommandDef, where: string): APIApplicationCommandSubcommandOption {
  const options = subcommandOptions(sub, where);
  return {
    type: ApplicationCommandOptionType.Subcommand,
    name: checkName(name, where),
    description: discordDescription(summary),
    ...(options.length ? { options } : {}),
  };
}

function toTopLevel(g: CommandGroupDef): APIApplicationCommandSubcommandOption | APIApplicationCommandSubcommandGroupOption {
  if (isFlatGroup(g)) return toSubcommand(g.name, g.summary, g.subcommands[0]!, `/${ROOT_COMMAND} ${g.name}`);
  if (g.subcommands.length > MAX_OPTIONS) throw new Error(`${g.name} has more than ${MAX_OPTIONS} subcommands`);
  return {
    type: ApplicationCommandOptionType.SubcommandGroup,
    name: checkName(g.name, `/${ROOT_COMMAND}`),
    description: discordDescription(g.summary),
    options: g.subcommands.map((s) => toSubcommand(s.name, s.summary, s, `/${ROOT_COMMAND} ${g.name} ${s.name}`)),
  };
}

/** Groups past the 25 options a Discord command can hold get a command of their own: `/infra-<group>`. */
export const overflowRoot = (group: string) => `${ROOT_COMMAND}-${group}`;

/**
 * The registration payload, derived from the command definitions: `/infra` with the first 25 groups (in
 * definition order, so a group never moves when one is added), and `/infra-<group>` for each one past that;
 * typing `/infra` in Discord lists them all.
 */
export function buildDiscordCommands(registry: Registry): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const inRoot = registry.groups.slice(0, MAX_OPTIONS);
  const overflow = registry.groups.slice(MAX_OPTIONS);
  return [
    {
      type: ApplicationCommandType.ChatInput,
      name: ROOT_COMMAND,
      description: 'infrabot: kill-switches, clusters, rate limits and breakers',
      options: inRoot.map(toTopLevel),
    },
    ...overflow.map((g): RESTPostAPIChatInputApplicationCommandsJSONBody => {
      const root = overflowRoot(checkName(g.name, `/${ROOT_COMMAND}`));
      const top = toTopLevel(g);
      // A one-subcommand group takes its options directly; others keep their subcommands.
      const options = top.type === ApplicationCommandOptionType.Subcommand ? (top.options ?? []) : top.options;
      return { type: ApplicationCommandType.ChatInput, name: root, description: discordDescription(g.summary), ...(options?.length ? { options } : {}) };
    }),
  ];
}
