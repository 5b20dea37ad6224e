import type { Reply } from '../framework/reply.js';
import type { CompleteOutboxArgs, RetryOutboxArgs } from './outbox-store.js';
import type { SqlDb, SqlExecutor } from './db/sql-db.js';

/**
 * Row types and the async interface of the health/alert/incident store (one implementation on SQLite and
 * PostgreSQL, src/store/sql-health-store.ts). Rows two writers touch (check state, alerts, incidents,
 * silences) carry a `version`: a write is `UPDATE … WHERE id = ? AND version = ?`, and a row changed meanwhile
 * makes the write fail (StaleRowError) so the decision is made again on the fresh row, never overwritten.
 */

/** The stored version of a row as it was read; undefined on a row not stored yet (written with an INSERT). */
export interface Versioned {
  version?: number;
}

export type CheckStatus = 'unknown' | 'up' | 'down' | 'degraded';
export type AlertSeverity = 'warning' | 'critical';
export type AlertKind = 'down' | 'degraded' | 'cert' | 'external';

export interface CheckResult {
  check: string;
  at: string;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** Per-check state kept in the store (not in memory) so replicas and restarts agree. */
export interface CheckState extends Versioned {
  check: string;
  cluster: string;
  status: CheckStatus;
  since: string;
  failures: number;
  successes: number;
  /** Consecutive anomalous latencies, and consecutive normal ones. */
  anomalies: number;
  calm?: number;
  lastAt?: string;
  lastOk?: boolean;
  lastError?: string;
  lastLatencyMs?: number;
  /** EWMA baseline of successful latencies. */
  mean?: number;
  variance?: number;
  samples: number;
  certDaysLeft?: number;
  certLevel?: 'ok' | 'warning' | 'critical';
  downSince?: string;
  remediatedAt?: string;
}

export interface Alert extends Versioned {
  id: string;
  dedupKey: string;
  kind: AlertKind;
  cluster: string;
  check: string;
  severity: AlertSeverity;
  status: 'firing' | 'resolved';
  summary: string;
  firedAt: string;
  resolvedAt?: string;
  resolvedBy?: string;
  ackedAt?: string;
  ackedBy?: string;
  /** The notification it was shown in; undefined while held back by a silence. */
  notificationId?: string;
  heldBy?: string;
  /** Set when the cluster was switched off on purpose as it fired ("api disabled by … at …"): shown, never paged. */
  expected?: string;
  reminders: number;
  nextReminderAt?: string;
  incidentId?: number;
  /** Set on alerts received from Alertmanager or Grafana (kind 'external'; `check` is the alert name). */
  external?: ExternalAlertInfo;
}

/** What infrabot keeps of a received alert: enough to show it, link to it and silence it at its source. */
export interface ExternalAlertInfo {
  source: 'alertmanager' | 'grafana' | 'budget';
  fingerprint: string;
  labels: Record<string, string>;
  description?: string;
  /** Runbook, dashboard, panel, source (generator) and silence links, shown as link buttons. */
  links: { label: string; url: string }[];
  imageUrl?: string;
  /** Alerts of the same webhook left out by the sender (Alertmanager's `truncatedAlerts`). */
  truncated?: number;
  /** Opens an incident of this severity when notified (config `receivers.incidents`), unless its cluster has one. */
  incidentSev?: number;
  /** When the sender says the alert started firing (its `startsAt`), which may be before infrabot heard of it. */
  startsAt?: string;
  /** When the sender says it ended (`endsAt` of a resolve), set on the resolved alert. */
  endsAt?: string;
}

export interface AlertEvent {
  alertId: string;
  at: string;
  cluster: string;
  type: 'fired' | 'held' | 'notified' | 'reminded' | 'acked' | 'resolved' | 'escalated' | 'remediated';
  actor: string;
  detail: string;
}

export interface Target {
  platform: string;
  channel: string;
}

export interface Notification {
  id: string;
  kind: 'alert' | 'incident';
  cluster?: string;
  createdAt: string;
  targets: Target[];
  /** For incident notifications. */
  incidentId?: number;
}

export interface Delivery extends Target {
  notificationId: string;
  messageId: string;
  threadId?: string;
}

/** 'sync' posts or updates the notification's message from current state; 'reply' posts `body` in its thread. */
export interface OutboxDraft extends Target {
  notificationId: string;
  op: 'sync' | 'reply';
  body?: Reply;
}

/** Why an attempt failed: 'refused' and 'gone' are the platform's definite answers, the rest may succeed later. */
export type OutboxFailureKind = 'rate_limited' | 'timeout' | 'error' | 'refused' | 'gone';

export interface OutboxJob extends OutboxDraft {
  seq: number;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  /** Random token of the current lease: only its holder can complete or retry the job. */
  leaseToken: string;
  /** How many times the job was leased, this time included (a lease that ran out left no failure behind). */
  claims: number;
  /** How the previous attempt failed, if it did. */
  lastFailure?: OutboxFailureKind;
}

export interface Silence extends Versioned {
  id: string;
  kind: 'silence' | 'maintenance';
  /** A cluster or a check name. */
  target: string;
  reason: string;
  createdBy: string;
  startsAt: string;
  endsAt: string;
  endedAt?: string;
}

export type IncidentStatus = 'open' | 'acknowledged' | 'mitigated' | 'resolved';

export interface Incident extends Versioned {
  /** From a sequence (HealthStore.nextIncidentId), never MAX + 1. */
  id: number;
  title: string;
  sev: number;
  cluster?: string;
  status: IncidentStatus;
  declaredAt: string;
  declaredBy: string;
  ackedAt?: string;
  ackedBy?: string;
  mitigatedAt?: string;
  resolvedAt?: string;
  summary?: string;
  commander?: string;
  comms?: string;
  notificationId?: string;
  lastUpdateAt: string;
  nextReminderAt?: string;
  sourceAlertId?: string;
}

export interface TimelineEntry {
  incidentId: number;
  at: string;
  actor: string;
  type: string;
  text: string;
}

/**
 * Everything one decision writes, committed in one unit of work (alert state and its outbox rows together).
 * Versioned rows are compare-and-set against the version they were read with; the last entry of a row wins
 * when a decision touched it twice.
 */
export interface HealthBatch {
  results?: CheckResult[];
  states?: CheckState[];
  alerts?: Alert[];
  alertEvents?: AlertEvent[];
  notifications?: Notification[];
  outbox?: OutboxDraft[];
  silences?: Silence[];
  /** Updates of existing incidents (compare-and-set on their version). */
  incidents?: Incident[];
  /** New incidents (numbered by nextIncidentId), inserted. */
  declared?: Incident[];
  timeline?: TimelineEntry[];
}

/**
 * A versioned row changed (or a row meant to be new appeared) between the read a decision was made on and its
 * write; nothing of the unit of work was written. HealthStore.unit decides again on fresh rows.
 */
export class StaleRowError extends Error {
  constructor(what: string) {
    super(`${what} changed while this was being decided; nothing was written`);
    this.name = 'StaleRowError';
  }
}

/** What compaction should prune besides raw results and roll-ups (ISO times; each optional). */
export interface RetentionCutoffs {
  /** Resolved alerts, their events, delivered alert notifications and their deliveries, ended silences. */
  historyBefore?: string;
  /** Pending outbox jobs written before this are dead-lettered. */
  deadLetterBefore?: string;
  /** Now: expired buttons are deleted. */
  now?: string;
}

export interface CompactResult {
  folded: number;
  /** Rows deleted by the history retention (all tables together). */
  pruned: number;
  /** Jobs given up on in this run (for logging). */
  deadLettered: { seq: number; notificationId: string; platform: string; channel: string; createdAt: string }[];
}

export interface LatencyStats {
  total: number;
  ok: number;
  p50?: number;
  p95?: number;
}

/** Current levels for metrics, read at scrape time. */
export interface HealthGauges {
  /** Pending outbox jobs per platform, with the creation time of the oldest. */
  outbox: { platform: string; pending: number; oldestAt: string }[];
  deadLettered: { platform: string; count: number }[];
  firing: { cluster: string; severity: string; count: number }[];
  openIncidents: { cluster: string; count: number }[];
}

/**
 * A lease row shared by every replica: a check (`check:<name>`) or housekeeping job (`job:<name>`), who owns
 * it until when, and when it is next due. Taken with compare-and-set on `version` (src/store/health-leases.ts).
 */
export interface Lease {
  name: string;
  owner?: string;
  expiresAt: string;
  nextDueAt: string;
  version: number;
}

export interface LeaseStore {
  /** Creates missing rows (first due at `firstDueAt(name)`); existing rows keep their schedule and owner. */
  ensure(names: readonly string[], firstDueAt: (name: string) => string): Promise<void>;
  read(prefix: string): Promise<Lease[]>;
  /** Takes a due slot if the row is still the version read: of several replicas exactly one wins. */
  take(lease: Lease, owner: string, expiresAt: string, nextDueAt: string): Promise<boolean>;
  /** Extends the unexpired leases `owner` holds under `prefix`; returns how many. */
  renew(owner: string, prefix: string, now: string, expiresAt: string): Promise<number>;
  /** Gives up every lease of `owner` (a clean stop). */
  release(owner: string): Promise<void>;
  /** Runs `fn`'s lease calls as one unit of work (one commit for a whole scheduling round). */
  atomically<T>(fn: () => Promise<T>): Promise<T>;
}

export interface HealthStore {
  readonly db: SqlDb;
  readonly leases: LeaseStore;
  gauges(): Promise<HealthGauges>;
  /**
   * Runs `decide` as one unit of work (or inside `tx`, a command's, in a savepoint): every read of this store
   * in it goes through the unit's transaction, `commit` writes there, and a StaleRowError (or a duplicate key:
   * someone else inserted first) undoes the attempt and runs `decide` again on fresh rows, up to 5 times.
   */
  unit<T>(decide: (attempt: number) => Promise<T>, opts?: { tx?: SqlExecutor }): Promise<T>;
  /** Writes the batch in the current unit of work, or in a transaction of its own outside one. */
  commit(batch: HealthBatch, at: string): Promise<void>;
  /** Takes the next incident number from the sequence (a number whose unit of work rolls back is skipped). */
  nextIncidentId(): Promise<number>;


  checkState(check: string): Promise<CheckState | undefined>;
  checkStates(): Promise<CheckState[]>;
  results(check: string, since: string, limit: number): Promise<CheckResult[]>;
  /** Uptime counts over raw results and roll-ups; percentiles over raw results only. */
  stats(check: string, since: string): Promise<LatencyStats>;
  /**
   * Folds raw results older than `rawBefore` into hourly roll-ups, drops roll-ups older than `rollupBefore`
   * and delivered outbox jobs older than `rawBefore`; applies the other cutoffs given (see RetentionCutoffs).
   */
  compact(rawBefore: string, rollupBefore: string, cutoffs?: RetentionCutoffs): Promise<CompactResult>;

  alert(id: string): Promise<Alert | undefined>;
  firingAlert(dedupKey: string): Promise<Alert | undefined>;
  alerts(query: { status?: 'firing' | 'resolved'; cluster?: string; notificationId?: string; since?: string; limit?: number }): Promise<Alert[]>;
  alertEvents(query: { cluster?: string; alertId?: string; after?: string; until?: string }): Promise<AlertEvent[]>;

  notification(id: string): Promise<Notification | undefined>;
  /** The newest alert notification of a cluster created at or after `since`. */
  recentAlertNotification(cluster: string, since: string): Promise<Notification | undefined>;
  deliveries(notificationId: string): Promise<Delivery[]>;
  saveDelivery(d: Delivery): Promise<void>;

  /** Leases up to `limit` due jobs whose earlier jobs for the same message are done. */
  claimOutbox(now: string, platforms: readonly string[], limit: number, leaseUntil: string): Promise<OutboxJob[]>;
  /** Done (with the delivery it made, if any) — only while `leaseToken` holds the lease; false when it was lost. */
  completeOutbox(args: CompleteOutboxArgs): Promise<boolean>;
  /** Another attempt later, or dead-lettered — only while `leaseToken` holds the lease; false when it was lost. */
  retryOutbox(args: RetryOutboxArgs): Promise<boolean>;
  /**
   * Pending jobs (for the given platforms, if any) and the earliest time one could be claimed: only jobs
   * at the head of their message's queue count, each at the later of its retry time and its lease's end.
   */
  pendingOutbox(platforms?: readonly string[]): Promise<{ count: number; nextAttemptAt?: string }>;

  silences(query: { activeAt?: string; kind?: Silence['kind'] }): Promise<Silence[]>;
  silence(id: string): Promise<Silence | undefined>;

  incident(id: number): Promise<Incident | undefined>;
  incidents(query: { open?: boolean; since?: string; cluster?: string }): Promise<Incident[]>;
  timeline(incidentId: number): Promise<TimelineEntry[]>;
}
