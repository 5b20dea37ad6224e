/**
 * Normalises how people name a user or group in a command into a platform-qualified subject id.
 * Chat mentions arrive in the platforms' escaped forms: Slack `<@U123|bob>` and `<!subteam^S1|@oncall>`,
 * Discord `<@123>`, `<@!123>` and `<@&456>` for roles. A bare name belongs to the caller's platform.
 */
export function normalizeSubject(raw: string, callerPlatform: string): string {
  const value = raw.trim();
  const slackGroup = /^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$/.exec(value);
  if (slackGroup) return `slack-group:${slackGroup[1]}`;
  const discordRole = /^<@&(\d+)>$/.exec(value);
  if (discordRole) return `discord-role:${discordRole[1]}`;
  const mention = /^<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>$/.exec(value);
  if (mention) return `${callerPlatform}:${mention[1]}`;
  if (/^[a-z][a-z-]*:[^\s:]+$/.test(value)) return value;
  return `${callerPlatform}:${value.replace(/^@/, '')}`;
}

export const SUBJECT_PATTERN = /^[a-z][a-z-]*:[^\s:]+$/;
