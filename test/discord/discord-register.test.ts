import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS } from '../../commands/index.js';
import { buildDiscordCommands } from '../../src/chat/discord/build-discord-commands.js';
import { discordCli } from '../../src/chat/discord/discord-cli.js';
import { describeOptions } from '../../src/framework/describe-options.js';
import { createRegistry } from '../../src/framework/registry.js';
import { APP_ID, BOT_TOKEN, GUILD_ID, startFakeDiscord, type FakeDiscord } from './fake-discord.js';

let fake: FakeDiscord | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const registry = createRegistry(COMMAND_GROUPS);

function io() {
  let out = '';
  let err = '';
  const w = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
  return { stdout: w((s) => (out += s)), stderr: w((s) => (err += s)), out: () => out, err: () => err };
}

interface Opt {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  autocomplete?: boolean;
  choices?: { name: string; value: string }[];
  options?: Opt[];
}

describe('infrabot discord register', () => {
  it('registers one /infra command derived from the command definitions, and a second run sends nothing', async () => {
    fake = await startFakeDiscord();
    const env = { DISCORD_TOKEN: BOT_TOKEN, DISCORD_APPLICATION_ID: APP_ID, DISCORD_API_URL: fake.apiUrl };
    const first = io();
    expect(await discordCli(['register'], { guild: GUILD_ID }, registry, first, env)).toBe(0);
    expect(first.out()).toContain(`Registered /infra (guild ${GUILD_ID})`);
    expect(first.out()).toContain('+ /infra cluster disable --reason');

    const [infra, ...others] = fake.commands.guild.get(GUILD_ID)! as unknown as Opt[];
    expect(infra!.name).toBe('infra');
    const top = new Map(infra!.options!.map((o) => [o.name, o]));
    // /infra holds Discord's maximum of 25 groups, in definition order; each later group is /infra-<group>.
    expect([...top.keys()]).toEqual(COMMAND_GROUPS.slice(0, 25).map((g) => g.name));
    expect(others.map((o) => o.name)).toEqual(COMMAND_GROUPS.slice(25).map((g) => `infra-${g.name}`));
    for (const o of others) top.set(o.name.slice('infra-'.length), { ...o, type: COMMAND_GROUPS.find((g) => `infra-${g.name}` === o.name)!.subcommands.length === 1 ? 1 : 2 });
    // Several subcommands → SUB_COMMAND_GROUP; one → SUB_COMMAND.
    expect(top.get('cluster')!.type).toBe(2);
    expect(top.get('cluster')!.options!.map((s) => [s.name, s.type])).toEqual([['list', 1], ['enable', 1], ['disable', 1]]);
    expect(top.get('status')!.type).toBe(1);
    expect(top.get('status')!.options).toEqual([{ type: 3, name: 'cluster', description: 'Only this cluster', required: false, autocomplete: true }]);

    const grant = top.get('role')!.options!.find((s) => s.name === 'grant')!;
    expect(grant.options!.map((o) => [o.name, o.type, o.required])).toEqual([['user', 9, true], ['role', 3, true], ['cluster', 3, false]]);
    expect(grant.options![1]!.choices!.map((c) => c.value)).toEqual(['viewer', 'operator', 'admin']);
    const set = top.get('ratelimit')!.options!.find((s) => s.name === 'set')!;
    expect(set.options!.map((o) => [o.name, o.type])).toEqual([['cluster', 3], ['per-minute', 4], ['per-hour', 4], ['per-day', 4], ['for', 3], ['until', 3]]);

    // Every option of every subcommand is there, required ones first; every description fits Discord's 100.
    const walk = (o: Opt): Opt[] => [o, ...(o.options ?? []).flatMap(walk)];
    for (const o of [infra!, ...others].flatMap(walk)) {
      expect(o.description.length).toBeLessThanOrEqual(100);
      expect(o.name).toMatch(/^[-_a-z0-9]{1,32}$/);
      const req = (o.options ?? []).map((x) => Boolean(x.required));
      expect(req).toEqual([...req].sort((a, b) => Number(b) - Number(a)));
    }
    for (const g of COMMAND_GROUPS) {
      for (const s of g.subcommands) {
        const node = g.subcommands.length === 1 ? top.get(g.name)! : top.get(g.name)!.options!.find((x) => x.name === s.name)!;
        expect((node.options ?? []).map((o) => o.name).sort()).toEqual(describeOptions(s).map((o) => o.flag.slice(2)).sort());
      }
    }

    const puts = () => fake!.requests.filter((r) => r.method === 'PUT').length;
    expect(puts()).toBe(1);
    const second = io();
    expect(await discordCli(['register'], { guild: GUILD_ID }, registry, second, env)).toBe(0);
    expect(second.out()).toContain('up to date');
    expect(puts()).toBe(1);
  });

  it('registers globally, looks up the application id when not given, and prints what changed', async () => {
    fake = await startFakeDiscord();
    const env = { DISCORD_TOKEN: BOT_TOKEN, DISCORD_API_URL: fake.apiUrl };
    const local = buildDiscordCommands(registry);
    // Discord has an older definition: one subcommand is missing.
    const stale = structuredClone(local);
    const cluster = stale[0]!.options!.find((o) => o.name === 'cluster') as { options: { name: string }[] };
    cluster.options = cluster.options.filter((s) => s.name !== 'enable');
    fake.commands.global = stale as unknown as Record<string, unknown>[];
    const run = io();
    expect(await discordCli(['register'], {}, registry, run, env)).toBe(0);
    expect(run.out()).toContain('Registered /infra (global)');
    expect(run.out()).toContain('+ /infra cluster enable');
    expect(run.out()).not.toContain('/infra status');
    expect(fake.requests.some((r) => r.method === 'PUT' && r.path === `/applications/${APP_ID}/commands`)).toBe(true);
  });

  it('explains a missing token instead of calling Discord', async () => {
    const run = io();
    expect(await discordCli(['register'], {}, registry, run, {})).toBe(78);
    expect(run.err()).toContain('DISCORD_TOKEN');
  });
});
