import { normalizeSubject } from '../auth/subjects.js';
import { usage, UserError } from '../user-error.js';
import type { ParsedCommand } from './parse-command.js';
import { describeOptions } from './describe-options.js';
import { commandName, type Registry } from './registry.js';

/**
 * A command given as structured input (the HTTP API) instead of text: the same definitions and the same
 * option schemas decide what is valid, and every problem is a usage error naming the field.
 */
export function parseStructured(registry: Registry, command: { name: string; args: Record<string, unknown> }, callerPlatform: string): ParsedCommand {
  const [groupName = '', subName] = command.name.trim().split(/\s+/);
  const group = registry.group(groupName);
  const sub = group?.subcommands.find((s) => s.name === (subName ?? group.defaultSubcommand));
  if (!group || !sub) throw new UserError('infra_unknown_command', `Unknown command "${command.name}".`);
  const input: Record<string, unknown> = {};
  for (const o of describeOptions(sub)) {
    const value = command.args[o.name];
    if (value === undefined) continue;
    input[o.name] = o.infraType === 'user' && typeof value === 'string' ? normalizeSubject(value, callerPlatform) : value;
  }
  const result = sub.options.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
    throw usage(`${commandName(group, sub)}: ${problems.join('; ')}.`);
  }
  return { kind: 'command', group, sub, name: commandName(group, sub), args: result.data as Record<string, unknown>, confirmed: false };
}
