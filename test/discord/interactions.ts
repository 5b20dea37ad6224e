/** Builders for realistic interaction payloads, as Discord sends them over the gateway or the HTTP endpoint. */
import { APP_ID, CHANNEL_ID, GUILD_ID, nextSnowflake } from './fake-discord.js';

export interface Who {
  userId?: string;
  username?: string;
  roles?: string[];
}

export interface GivenOption {
  name: string;
  /** 3 STRING, 4 INTEGER, 5 BOOLEAN, 6 USER, 8 ROLE, 9 MENTIONABLE, 10 NUMBER */
  type: number;
  value: string | number | boolean;
  focused?: boolean;
}

function base(type: number, who: Who) {
  const id = nextSnowflake();
  const userId = who.userId ?? '2200000000000000001';
  return {
    id,
    application_id: APP_ID,
    type,
    token: `itoken-${id}`,
    version: 1,
    guild_id: GUILD_ID,
    channel_id: CHANNEL_ID,
    channel: { id: CHANNEL_ID, type: 0, name: 'ops', guild_id: GUILD_ID },
    guild: { id: GUILD_ID, locale: 'en-US', features: [] },
    member: {
      user: { id: userId, username: who.username ?? 'vera', discriminator: '0', global_name: null, avatar: null },
      roles: who.roles ?? [],
      nick: null,
      joined_at: '2026-01-01T00:00:00.000Z',
      deaf: false,
      mute: false,
      flags: 0,
      permissions: '2147483647',
    },
    app_permissions: '2147483647',
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { '0': GUILD_ID },
    context: 0,
    attachment_size_limit: 8_388_608,
  };
}

/** `/infra <group> [sub] options…`; pass sub undefined for single-subcommand groups (`/infra status`). */
export function slashCommand(group: string, sub: string | undefined, options: GivenOption[] = [], who: Who = {}, resolved?: Record<string, unknown>) {
  const leaf = { type: 1, name: sub ?? group, options };
  return {
    ...base(2, who),
    data: {
      id: '3300000000000000001',
      name: 'infra',
      type: 1,
      guild_id: GUILD_ID,
      options: sub ? [{ type: 2, name: group, options: [leaf] }] : [leaf],
      ...(resolved ? { resolved } : {}),
    },
  };
}

export function autocomplete(group: string, sub: string | undefined, options: GivenOption[], who: Who = {}) {
  return { ...slashCommand(group, sub, options, who), type: 4 };
}

/** A button click on a message the bot posted. */
export function buttonClick(customId: string, message: { id: string; flags?: number }, who: Who = {}) {
  return {
    ...base(3, who),
    data: { custom_id: customId, component_type: 2 },
    message: {
      id: message.id,
      channel_id: CHANNEL_ID,
      flags: message.flags ?? 0,
      content: '',
      embeds: [],
      components: [],
      author: { id: '1100000000000000002', username: 'infrabot', discriminator: '0', global_name: null, avatar: null, bot: true },
      attachments: [],
      mentions: [],
      mention_roles: [],
      pinned: false,
      mention_everyone: false,
      tts: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      type: 20,
    },
  };
}
