import type { ClusterTraffic, ControlSnapshot, GuardSeen } from '@infrabot/guard';

/**
 * The port through which committed control state reaches services (Redis in production; see
 * src/redis/redis-control-link.ts). The engine decides what to publish; the adapter only carries it.
 */
export interface ControlPublisher {
  /** Where snapshots go, without credentials, for `status`. */
  readonly target: string;
  /** Stores and announces a snapshot following version `prev`; false when a newer one was already there. */
  publish(snapshot: ControlSnapshot, prev: number): Promise<boolean>;
  /** The newest version published (-1 = none): compared with the store on start and periodically. */
  publishedVersion(): Promise<number>;
  /** Live traffic per cluster as reported by guards, summed over the last `seconds`. */
  traffic(clusters: readonly string[], seconds: number): Promise<Record<string, ClusterTraffic>>;
  /** Guards that reported recently, per cluster, with their status and the version they hold. */
  guards(clusters: readonly string[]): Promise<Record<string, GuardSeen[]>>;
  /** Claims the right to act on a cluster for `ttlMs` (one bot replica trips a breaker, not all of them). */
  claim(name: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}
