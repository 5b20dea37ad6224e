import { normalizeSubject } from '../auth/subjects.js';
import { usage, UserError } from '../user-error.js';
import type { ParsedCommand } from './parse-command.js';
import { describeOptions } from './describe-options.js';
import { describeInputProblems } from './describe-input-problems.js';
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
  const options = describeOptions(sub);
  for (const o of options) {
    const value = command.args[o.name];
    if (value === undefined) continue;
    input[o.name] = o.infraType === 'user' && typeof value === 'string' ? normalizeSubject(value, callerPlatform) : value;
  }
  const result = sub.options.safeParse(input);
  if (!result.success) {
    // Structured input names its fields as sent (`perMinute`), not as flags.
    const problems = describeInputProblems(result.error.issues, { options, input, label: (name) => name });
    throw usage(`${commandName(group, sub)}: ${problems.join(' ')}`);
  }
  return { kind: 'command', group, sub, name: commandName(group, sub), args: result.data as Record<string, unknown>, confirmed: false };
}
