import type { APIInteraction, APIUser } from '@discordjs/core/http-only';
import type { Invocation } from '../../framework/invocation.js';

/** The user who triggered an interaction: guild interactions carry `member.user`, DMs carry `user`. */
export function interactionUser(interaction: APIInteraction): APIUser | undefined {
  return interaction.member?.user ?? interaction.user;
}

/**
 * Who is asking, as the pipeline sees it: `discord:<user id>`, with the member's guild roles as groups
 * (`discord-role:<id>`) so `role grant discord-role:<id> operator` covers everyone holding that role.
 * The guild id is also the id of its @everyone role, which Discord leaves out of `member.roles`.
 */
export function interactionToInvocation(interaction: APIInteraction, text: string): Invocation {
  const user = interactionUser(interaction);
  if (!user) throw new Error(`interaction ${interaction.id} names no user`);
  const member = interaction.member;
  const roles = member && 'roles' in member ? member.roles : [];
  const groups = [...roles, ...(interaction.guild_id ? [interaction.guild_id] : [])].map((r) => `discord-role:${r}`);
  const displayName = (member && 'nick' in member && member.nick) || user.global_name || user.username;
  const channel = interaction.channel?.id ?? interaction.channel_id;
  return {
    id: interaction.id,
    platform: 'discord',
    user: { id: `discord:${user.id}`, displayName, ...(groups.length ? { groups } : {}) },
    ...(channel ? { channel } : {}),
    text,
  };
}
