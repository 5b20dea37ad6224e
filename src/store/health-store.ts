import type { Reply } from '../framework/reply.js';

/** Row types and the async interface of the health/alert/incident store (SQLite now; PostgreSQL could replace it). */

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
export interface CheckState {
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

export interface Alert {
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

export interface OutboxJob extends OutboxDraft {
  seq: number;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
}

export interface Silence {
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

export interface Incident {
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

/** Everything one decision writes, committed in one transaction (alert state and its outbox rows together). */
export interface HealthBatch {
  results?: CheckResult[];
  states?: CheckState[];
  alerts?: Alert[];
  alertEvents?: AlertEvent[];
  notifications?: Notification[];
  outbox?: OutboxDraft[];
  silences?: Silence[];
  /** Updates of existing incidents. */
  incidents?: Incident[];
  /**
   * New incidents, inserted with a plain INSERT: if another writer took the id meanwhile the whole batch
   * fails instead of overwriting that incident (ids are predicted with nextIncidentId before the commit).
   */
  declared?: Incident[];
  timeline?: TimelineEntry[];
  /**
   * Optimistic guard: the batch is refused (StaleHealthStateError) unless each check's stored state is
   * still exactly `state` (undefined: none stored yet). Lets a command write a decision made on a read.
   */
  expectStates?: { check: string; state: CheckState | undefined }[];
}

/** A guarded batch found the state it was decided on changed meanwhile; nothing was written. */
export class StaleHealthStateError extends Error {
  constructor(check: string) {
    super(`the state of check ${check} changed while this was being decided; nothing was written`);
    this.name = 'StaleHealthStateError';
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

export interface HealthStore {
  gauges(): Promise<HealthGauges>;
  commit(batch: HealthBatch, at: string): Promise<void>;
  /**
   * Writes the batch synchronously inside the caller's open transaction (a command's `ctx.transactional`
   * effect on the shared SQLite handle), so it commits or rolls back with the audit record.
   */
  commitSync(batch: HealthBatch, at: string): void;

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
  completeOutbox(seq: number): Promise<void>;
  retryOutbox(seq: number, nextAttemptAt: string, error: string, dead: boolean): Promise<void>;
  /**
   * Pending jobs (for the given platforms, if any) and the earliest time one could be claimed: only jobs
   * at the head of their message's queue count, each at the later of its retry time and its lease's end.
   */
  pendingOutbox(platforms?: readonly string[]): Promise<{ count: number; nextAttemptAt?: string }>;

  silences(query: { activeAt?: string; kind?: Silence['kind'] }): Promise<Silence[]>;
  silence(id: string): Promise<Silence | undefined>;

  incident(id: number): Promise<Incident | undefined>;
  incidents(query: { open?: boolean; since?: string; cluster?: string }): Promise<Incident[]>;
  /** A prediction (MAX + 1): the plain INSERT of `declared` makes a stale one fail rather than overwrite. */
  nextIncidentId(): Promise<number>;
  timeline(incidentId: number): Promise<TimelineEntry[]>;
}
