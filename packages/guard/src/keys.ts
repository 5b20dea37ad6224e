/**
 * Redis key names shared by the bot (publisher, traffic reader) and guards. Keys of one cluster share the
 * `{cluster}` hash tag, so one script may touch them all on Redis Cluster too.
 */
export function controlKeys(prefix: string) {
  return {
    /** Hash {version, doc}: the newest published snapshot. */
    snapshot: `${prefix}:control:snapshot`,
    /** Pub/sub channel announcing each new snapshot. */
    channel: `${prefix}:control:changes`,
    /** Counters of one subject (the cluster, or one tenant of it) for the minute, hour and day windows. */
    rate: (cluster: string, tenant?: string) => {
      const base = `${prefix}:rl:{${cluster}}:${tenant === undefined ? '*' : `t:${tenant}`}`;
      return [`${base}:m`, `${base}:h`, `${base}:d`] as const;
    },
    /** Aggregated guard outcomes of one cluster for one second. */
    traffic: (cluster: string, second: number) => `${prefix}:traffic:{${cluster}}:${second}`,
    /** Hash: one field per running guard of the cluster ("<service>|<instance>") with its health, refreshed each second. */
    guards: (cluster: string) => `${prefix}:guards:{${cluster}}`,
    /** Held briefly by the bot replica that trips a breaker automatically, so replicas trip it once. */
    autoTripLock: (cluster: string) => `${prefix}:autotrip:{${cluster}}`,
    /**
     * Billable actions of one cluster: the record of each idempotency key, the open reservations (by expiry and
     * by held amount), the totals (held, charged per day and month, counters) and the stream of confirmed
     * charges the bot collects costs from. One `{cluster}` hash tag, so one script touches them all.
     */
    billable: (cluster: string) => {
      const base = `${prefix}:bill:{${cluster}}`;
      return {
        record: (idempotencyKey: string) => `${base}:k:${idempotencyKey}`,
        open: `${base}:open`,
        held: `${base}:held`,
        totals: `${base}:totals`,
        charges: `${base}:charges`,
      };
    },
    /** Held by the bot replica that collects confirmed charges into the store. */
    lease: (name: string) => `${prefix}:lease:${name}`,
  };
}

export type ControlKeys = ReturnType<typeof controlKeys>;
export const DEFAULT_PREFIX = 'infrabot';
