import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { slackGroupId } from './slack-invocation.js';

export interface SlackUserGroups {
  /** Platform-qualified group ids (slack-group:S123) the user belongs to; [] when unknown. */
  groupsOf(userId: string): Promise<string[]>;
}

export interface UserGroupOptions {
  client: webApi.WebClient;
  log: Logger;
  /** How long a fetched membership list is used before it is refreshed in the background. */
  ttlMs?: number;
  /**
   * While Slack fails, the last membership list is used for at most this long after it was fetched; then
   * group grants stop applying until Slack answers again (fail closed), so a revocation made in Slack is never
   * ignored indefinitely. Default: five TTLs.
   */
  maxStaleMs?: number;
  /** The first lookup waits at most this long; a command never waits longer on Slack for group data. */
  firstFetchTimeoutMs?: number;
  now?: () => number;
}

/**
 * Slack user-group membership for RBAC, from one `usergroups.list?include_users=true` call shared by all
 * users and cached: a command costs no API call while the cache is fresh, and a stale cache answers at
 * once while one refresh runs. If Slack fails, users keep their own grants, and the last known groups only
 * until they are `maxStaleMs` old: membership then counts as unknown (no group grants) until the API answers.
 */
export function createSlackUserGroups(opts: UserGroupOptions): SlackUserGroups {
  const ttl = opts.ttlMs ?? 60_000;
  const firstTimeout = opts.firstFetchTimeoutMs ?? 500;
  const now = opts.now ?? Date.now;
  const maxStale = opts.maxStaleMs ?? 5 * ttl;
  let members: Map<string, string[]> | undefined;
  let fetchedAt = -Infinity;
  /** When `members` was last fetched successfully. */
  let goodAt = -Infinity;
  let inflight: Promise<void> | undefined;

  async function fetchAll(): Promise<void> {
    try {
      const res = await opts.client.usergroups.list({ include_users: true });
      const next = new Map<string, string[]>();
      for (const g of res.usergroups ?? []) {
        if (!g.id || g.date_delete) continue;
        for (const u of g.users ?? []) next.set(u, [...(next.get(u) ?? []), slackGroupId(g.id)]);
      }
      members = next;
      goodAt = now();
    } catch (err) {
      const expired = now() - goodAt > maxStale;
      opts.log.warn(
        { err: errorSummary(err), cachedFor: expired ? undefined : maxStale - (now() - goodAt) },
        expired
          ? 'could not list Slack user groups; group role grants are not applied until Slack answers'
          : 'could not list Slack user groups; using the last known memberships until they expire',
      );
    } finally {
      // Failures also wait a full TTL, so a broken scope or outage costs one call a minute, not one per command.
      fetchedAt = now();
      inflight = undefined;
    }
  }

  function refresh(): Promise<void> {
    inflight ??= fetchAll();
    return inflight;
  }

  return {
    async groupsOf(userId) {
      if (now() - fetchedAt > ttl) {
        const pending = refresh();
        if (members === undefined) {
          await Promise.race([pending, new Promise((r) => setTimeout(r, firstTimeout).unref())]);
        }
      }
      // Too old to trust: a membership revoked in Slack since then must not keep granting roles.
      if (now() - goodAt > maxStale) return [];
      return members?.get(userId) ?? [];
    },
  };
}

function errorSummary(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
