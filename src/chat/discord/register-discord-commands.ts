import type { API } from '@discordjs/core/http-only';
import type { Registry } from '../../framework/registry.js';
import { buildDiscordCommands } from './build-discord-commands.js';
import { diffDiscordCommands } from './diff-discord-commands.js';

export interface RegistrationResult {
  scope: string;
  /** Differences found before writing; empty means nothing was sent. */
  changes: string[];
  written: boolean;
}

/**
 * Registers `/infra` globally or in one guild. Fetches what Discord has first and overwrites only when the
 * definitions differ, so running it on every deploy is safe and does not churn the command version.
 */
export async function registerDiscordCommands(opts: {
  api: API;
  registry: Registry;
  applicationId: string;
  guildId?: string | undefined;
}): Promise<RegistrationResult> {
  const { api, applicationId, guildId } = opts;
  const local = buildDiscordCommands(opts.registry);
  const scope = guildId ? `guild ${guildId}` : 'global';
  const registered = guildId
    ? await api.applicationCommands.getGuildCommands(applicationId, guildId)
    : await api.applicationCommands.getGlobalCommands(applicationId);
  const changes = diffDiscordCommands(local, registered);
  if (changes.length === 0) return { scope, changes, written: false };
  if (guildId) await api.applicationCommands.bulkOverwriteGuildCommands(applicationId, guildId, local);
  else await api.applicationCommands.bulkOverwriteGlobalCommands(applicationId, local);
  return { scope, changes, written: true };
}
