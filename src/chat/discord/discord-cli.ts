import { API } from '@discordjs/core/http-only';
import type { Registry } from '../../framework/registry.js';
import { createDiscordRest } from './create-discord-rest.js';
import { parseDiscordEnv } from './discord-env.js';
import { registerDiscordCommands } from './register-discord-commands.js';
import { safeError } from './safe-error.js';

const EX_USAGE = 64;
const EX_CONFIG = 78;

/** `infrabot discord register [--guild <id>]`: registers `/infra`, only when it differs from what Discord has. */
export async function discordCli(
  args: readonly string[],
  opts: { guild?: string | undefined },
  registry: Registry,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (args[0] !== 'register') {
    io.stderr.write('infrabot discord: expected "register [--guild <id>]"\n');
    return EX_USAGE;
  }
  if (opts.guild !== undefined && !/^\d{5,20}$/.test(opts.guild)) {
    io.stderr.write(`infrabot discord register: --guild takes a guild id (digits)\n`);
    return EX_USAGE;
  }
  let parsed;
  try {
    parsed = parseDiscordEnv(env);
  } catch (err) {
    io.stderr.write(`infrabot discord register: ${(err as Error).message}\n`);
    return EX_CONFIG;
  }
  if (!parsed.DISCORD_TOKEN) {
    io.stderr.write('infrabot discord register: set DISCORD_TOKEN (the bot token) first\n');
    return EX_CONFIG;
  }
  const api = new API(createDiscordRest({ apiUrl: parsed.DISCORD_API_URL, token: parsed.DISCORD_TOKEN }));
  try {
    const applicationId = parsed.DISCORD_APPLICATION_ID ?? (await api.applications.getCurrent()).id;
    const result = await registerDiscordCommands({ api, registry, applicationId, guildId: opts.guild });
    if (!result.written) {
      io.stdout.write(`/infra is up to date (${result.scope}); nothing sent.\n`);
      return 0;
    }
    io.stdout.write(`Registered /infra (${result.scope}), ${result.changes.length} change(s):\n${result.changes.map((c) => `  ${c}\n`).join('')}`);
    if (!opts.guild) io.stdout.write('Global commands can take up to an hour to appear; use --guild <id> while developing.\n');
    return 0;
  } catch (err) {
    const e = safeError(err);
    io.stderr.write(`infrabot discord register: ${String(e.message)}${e.status ? ` (HTTP ${String(e.status)})` : ''}\n`);
    return 1;
  }
}
