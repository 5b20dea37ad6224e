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
  const qualified = /^([A-Za-z][A-Za-z-]*):(.+)$/.exec(value);
  if (qualified) return `${qualified[1]!.toLowerCase()}:${qualified[2]}`;
  return `${callerPlatform}:${value.replace(/^@/, '')}`;
}

/** What a valid id looks like on each platform, so a grant to a subject nobody can ever be is refused. */
const ID_FORMATS: Record<string, { pattern: RegExp; what: string; hint: string }> = {
  // Local names are whatever the OS or directory uses (alice, alice@corp.com, DOMAIN\bob), minus spaces.
  local: { pattern: /^[^\s:]{1,128}$/u, what: 'a local user name', hint: 'e.g. local:alice' },
  slack: { pattern: /^[UW][A-Z0-9]+$/, what: 'a Slack user id', hint: 'mention the user (@name) so Slack sends their id, or write slack:U…' },
  'slack-group': { pattern: /^S[A-Z0-9]+$/, what: 'a Slack user group id', hint: 'mention the group (@group) or write slack-group:S…' },
  discord: { pattern: /^\d{1,25}$/, what: 'a Discord user id', hint: 'pick the user in the option, mention them, or write discord:<numeric id>' },
  'discord-role': { pattern: /^\d{1,25}$/, what: 'a Discord role id', hint: 'mention the role or write discord-role:<numeric id>' },
  // An HTTP API key acting as a user (audit searches); its role comes from the key, never from grants.
  apikey: { pattern: /^[a-z2-9]{12}$/, what: 'an API key id', hint: '`apikey list` shows the ids' },
};

/** Why a normalized subject cannot be anybody, or undefined when it is well-formed. */
export function subjectProblem(subject: string): string | undefined {
  const i = subject.indexOf(':');
  const prefix = subject.slice(0, i);
  const id = subject.slice(i + 1);
  const format = Object.hasOwn(ID_FORMATS, prefix) ? ID_FORMATS[prefix] : undefined; // "constructor:x" is no platform
  if (i <= 0 || !format) {
    return `"${subject}" names no known platform; use ${Object.keys(ID_FORMATS).map((p) => `${p}:`).join(', ')}`;
  }
  return format.pattern.test(id) ? undefined : `"${subject}" is not ${format.what}: ${format.hint}`;
}

