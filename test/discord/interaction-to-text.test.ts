import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../../commands/index.js';
import { interactionToText, quoteValue } from '../../src/chat/discord/interaction-to-text.js';
import { interactionToInvocation } from '../../src/chat/discord/interaction-to-invocation.js';
import { parseCommand } from '../../src/framework/parse-command.js';
import { createRegistry } from '../../src/framework/registry.js';
import { tokenize } from '../../src/framework/tokenize.js';
import type { APIChatInputApplicationCommandInteractionData, APIInteraction } from '@discordjs/core/http-only';
import { GUILD_ID } from './fake-discord.js';
import { slashCommand, type GivenOption } from './interactions.js';

const registry = createRegistry(COMMAND_GROUPS);
const textOf = (group: string, sub: string | undefined, options: GivenOption[], resolved?: Record<string, unknown>) =>
  interactionToText(registry, slashCommand(group, sub, options, {}, resolved).data as unknown as APIChatInputApplicationCommandInteractionData);

describe('interaction → canonical command text', () => {
  it('writes positionals bare and the rest as flags', () => {
    expect(textOf('cluster', 'disable', [{ name: 'reason', type: 3, value: 'bad deploy' }, { name: 'cluster', type: 3, value: 'api' }])).toBe(
      'cluster disable api --reason "bad deploy"',
    );
    expect(textOf('status', undefined, [])).toBe('status');
    expect(textOf('status', undefined, [{ name: 'cluster', type: 3, value: 'web' }])).toBe('status web');
    expect(textOf('ratelimit', 'set', [{ name: 'cluster', type: 3, value: 'api' }, { name: 'per-minute', type: 4, value: 500 }])).toBe(
      'ratelimit set api --per-minute 500',
    );
  });

  it('reads a group registered as its own command (/infra-<group>, past the 25 under /infra) like one under /infra', () => {
    const own = (name: string, options: unknown[]) =>
      interactionToText(registry, { id: '1', type: 1, name, options } as unknown as APIChatInputApplicationCommandInteractionData);
    const late = COMMAND_GROUPS.slice(25);
    expect(late.length).toBeGreaterThan(0);
    const flat = late.find((g) => g.subcommands.length === 1)!;
    // Which groups overflow depends on how many there are; the reading works for any group with subcommands.
    const nested = COMMAND_GROUPS.find((g) => g.name === 'cluster')!;
    expect(own(`infra-${flat.name}`, [])).toBe(flat.name);
    expect(own(`infra-${nested.name}`, [{ type: 1, name: nested.subcommands[0]!.name, options: [] }])).toBe(`${nested.name} ${nested.subcommands[0]!.name}`);
    expect(own('infra-nosuchgroup', [])).toBeUndefined();
    expect(own('other', [])).toBeUndefined();
  });

  it('names the subcommand when the first word could be read as one', () => {
    // A cluster literally named "status" must not be taken for the subcommand.
    expect(textOf('status', undefined, [{ name: 'cluster', type: 3, value: 'status' }])).toBe('status status status');
  });

  it('turns mentionable users and roles into subjects', () => {
    const resolved = { roles: { '4400': { id: '4400', name: 'oncall' } } };
    expect(textOf('role', 'grant', [{ name: 'user', type: 9, value: '4400' }, { name: 'role', type: 3, value: 'operator' }], resolved)).toBe(
      'role grant discord-role:4400 operator',
    );
    const parsed = parseCommand(registry, textOf('role', 'grant', [{ name: 'user', type: 9, value: '77' }, { name: 'role', type: 3, value: 'viewer' }])!, 'discord');
    expect(parsed.kind === 'command' && parsed.args).toEqual({ user: 'discord:77', role: 'viewer' });
  });

  it('keeps values that look like flags or contain quotes intact through the parser', () => {
    const text = textOf('cluster', 'disable', [{ name: 'cluster', type: 3, value: 'api' }, { name: 'reason', type: 3, value: '--yes say "hi" --now \\' }])!;
    const parsed = parseCommand(registry, text, 'discord');
    expect(parsed.kind === 'command' && parsed.args).toEqual({ cluster: 'api', reason: '--yes say "hi" --now \\' });
    expect(parsed.kind === 'command' && parsed.confirmed).toBe(false);
  });

  it('quotes any string so the tokenizer returns it unchanged', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (s) => {
        expect(tokenize(`x ${quoteValue(s)} y`)).toEqual(['x', s, 'y']);
      }),
      { numRuns: 2000 },
    );
  });

  it('maps the member, their roles and the guild (@everyone) to the invocation', () => {
    const i = slashCommand('whoami', undefined, [], { userId: '55', username: 'vera', roles: ['66'] }) as unknown as APIInteraction;
    expect(interactionToInvocation(i, 'whoami')).toMatchObject({
      platform: 'discord',
      user: { id: 'discord:55', displayName: 'vera', groups: ['discord-role:66', `discord-role:${GUILD_ID}`] },
      text: 'whoami',
    });
  });
});
