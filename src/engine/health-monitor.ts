import type { Logger } from 'pino';
import type { CheckConfig } from '../config/health-config-schema.js';
import type { InfrabotConfig } from '../config/config-schema.js';
import { notFound } from '../user-error.js';
import type { CheckState, HealthBatch, HealthStore, OutboxFailureKind, OutboxJob, Silence } from '../store/health-store.js';
import type { Store } from '../store/store.js';
import type { ReplyAttachment } from './message.js';
import { hostname } from 'node:os';
import { parseDuration } from '../util/duration.js';
import { shortId } from '../util/ids.js';
import { createAlertManager, type AlertManager, type ReceivedAlert, type ReceiveOutcome } from './alerts/alert-manager.js';
import { channelTargets } from './alerts/route-alert.js';
import { createOutboxDeliverer, type OutboxDeliverer } from './alerts/outbox-deliverer.js';
import { silenceInAlertmanager, type SilenceAtSource } from './alerts/silence-in-alertmanager.js';
import { noTracer, type Tracer } from '../tracing/tracer.js';
import { createLeasedSchedule } from './checks/leased-schedule.js';
import { createSilences } from './alerts/silences.js';
import { announceDeadLetters as announceDeadLettersTo, type DeadLetteredJob } from './alerts/dead-letter-notice.js';
import { healthLifecycleEvents } from './alerts/health-lifecycle.js';
import type { EmitLifecycle } from './lifecycle-events.js';
import type { RunCommand } from './ports.js';
import { decideResult } from './checks/record-result.js';
import { remediateDue } from './checks/remediate.js';
import { runProbe, type ProbeOutcome } from './checks/run-probe.js';
import type { Engine } from './engine.js';
import { createIncidentService, type IncidentService } from './incidents/incident-service.js';
import type { Timers } from './timers.js';

export interface MonitoredCheck {
  cluster: string;
  check: CheckConfig;
  intervalMs: number;
}

export interface HealthMonitor {
  readonly health: HealthStore;
  readonly checks: readonly MonitoredCheck[];
  readonly alerts: AlertManager;
  readonly incidents: IncidentService;
  readonly deliverer: OutboxDeliverer;
  /** Silences a received Alertmanager alert in Alertmanager too (config `receivers.alertmanager.url`). */
  readonly silenceAtSource?: SilenceAtSource;
  find(name: string): MonitoredCheck;
  /**
   * Probes one check now, records the result and acts on any state change. With `write`, the decision is
   * handed to it (a command's unit of work) instead of committed here, decided again there on a conflict.
   */
  runCheck(name: string, write?: BatchWriter): Promise<{ outcome: ProbeOutcome; state: CheckState }>;
  /**
   * Probes every check whose slot this replica wins (lease rows in the database: one replica per check and
   * interval), at most `concurrency` at once; resolves when done.
   */
  runDue(): Promise<number>;
  /** This replica's name in the lease rows. */
  readonly replica: string;
  /** One round of everything time-driven: due probes, reminders, released silences, remediation, delivery. */
  tick(): Promise<void>;
  /**
   * Adds the silence to `batch` (a command's; see commitWithCommand), at most MAX_SILENCE_MS long. An
   * active one of the same kind on the same target is merged instead of duplicated: extended when the new one
   * ends later (`extended`), left as it is when it already covers it (`covered`, nothing added).
   */
  addSilence(
    input: { kind: Silence['kind']; target: string; forMs: number; reason: string; actor: string },
    batch: HealthBatch,
  ): Promise<{ silence: Silence; merged?: { how: 'extended' | 'covered'; previousEndsAt: string } }>;
  endSilences(target: string, kind: Silence['kind'], actor: string, batch: HealthBatch): Promise<Silence[]>;
  /**
   * The cluster a reference belongs to, for per-cluster authorization: a check, an alert or notification id,
   * an incident number, or a silence target (cluster, check or silence id). Undefined when unknown.
   */
  clusterOf(ref: ClusterRef): Promise<string | undefined>;
  /**
   * Alerts received from Alertmanager or Grafana: decided and committed (alerts, notifications, outbox jobs,
   * incidents in one transaction) one decision at a time with probe results, then delivered.
   */
  receiveAlerts(alerts: readonly ReceivedAlert[]): Promise<ReceiveOutcome>;
  /**
   * After a command's batch committed: announce it (lifecycle events), deliver what it queued; `release`
   * notifies alerts a silence held.
   */
  afterCommand(opts?: { release?: boolean }, committed?: HealthBatch): void;
  /** Platforms the config routes notifications to that no sink of this process serves, with their channels. */
  unservedRoutes(): { platform: string; channels: string[] }[];
  /**
   * Starts probing and delivery. `onlyServedPlatforms` (a console that is the only adapter): notifications
   * for platforms no sink here serves are not queued at all, since nothing would ever deliver them.
   */
  start(opts?: { onlyServedPlatforms?: boolean }): void;
  stop(): Promise<void>;
}

export interface ClusterRef {
  check?: string;
  alert?: string;
  incident?: number;
  target?: string;
}

/**
 * A decision made on reads: its batch is written compare-and-set on the versions read; if a row changed
 * meanwhile, `redecide` makes it again on the fresh rows (inside the unit of work) instead of overwriting.
 */
export interface HealthDecision {
  batch: HealthBatch;
  redecide(): Promise<HealthBatch>;
}

/** Takes a decision for writing elsewhere (inside a command's unit of work). */
export type BatchWriter = (decision: HealthDecision) => void;

/** Lifecycle hooks of the health monitor (metrics subscribe here); none may throw. */
export interface HealthObserver {
  probed?(cluster: string, check: string, ok: boolean, latencyMs: number): void;
  delivered?(job: OutboxJob): void;
  deliveryFailed?(job: OutboxJob, reason: OutboxFailureKind, dead: boolean): void;
  /** Jobs given up by compaction (nobody served their platform in time). */
  deadLettered?(jobs: readonly { platform: string }[]): void;
  received?(source: string, outcome: ReceiveOutcome): void;
}

export interface HealthMonitorDeps {
  observer?: HealthObserver;
  tracer?: Tracer;
  config: InfrabotConfig;
  health: HealthStore;
  store: Store;
  engine: Engine;
  timers: Timers;
  log: Logger;
  /** Runs a command as `system` through the pipeline (automatic remediation); without it, none happens. */
  run?: RunCommand;
  /** The post-commit spine: alert fired/resolved and incident changed, once their unit of work committed. */
  emit?: EmitLifecycle;
  /** This replica's name in the lease rows (default: host, pid and a random part). */
  replica?: string;
  /**
   * How long a replica owns the checks it probes without renewing (default: config health.leaseTime). A dead
   * replica's checks are taken over within one interval plus this.
   */
  leaseMs?: number;
  /** Draws a check's latency over the last hour for a DOWN or DEGRADED alert's thread (a PNG attachment). */
  latencyChart?: (check: string, until: Date) => Promise<ReplyAttachment | undefined>;
}

export { MAX_SILENCE_MS } from './alerts/silences.js';
/** How often the time-driven writes (reminders, releases, remediation) run, on one replica. */
const HOUSEKEEPING_MS = 5000;

export async function createHealthMonitor(deps: HealthMonitorDeps): Promise<HealthMonitor> {
  const { config, health, store, engine, timers } = deps;
  const log = deps.log.child({ component: 'health' });
  const clock = engine.clock;
  const checks: MonitoredCheck[] = Object.entries(config.clusters).flatMap(([cluster, c]) =>
    c.checks.map((check) => ({ cluster, check, intervalMs: parseDuration(check.interval) ?? 30_000 })),
  );
  const byName = new Map(checks.map((c) => [c.check.name, c]));

  const outboxMaxAgeMs = parseDuration(config.health.outboxMaxAge) ?? 86_400_000;
  const historyMs = parseDuration(config.health.historyRetention) ?? 30 * 86_400_000;
  const deliverer = createOutboxDeliverer({
    health, store, clock, timers, log: log.child({ component: 'outbox' }), maxAgeMs: outboxMaxAgeMs, buttonTtlMs: historyMs,
    ...(deps.tracer ? { tracer: deps.tracer } : {}),
    onDelivered: (job) => deps.observer?.delivered?.(job),
    onFailed: (job, reason, dead) => {
      deps.observer?.deliveryFailed?.(job, reason, dead);
      if (dead) void announceDeadLetters([job]);
    },
  });
  const onEnqueued = () => deliverer.kick();
  /** Emits what a committed batch stands for; the one place health writes become lifecycle events. */
  const announce = (b: HealthBatch) => {
    for (const e of healthLifecycleEvents(b, clock.now().toISOString())) deps.emit?.(e);
  };
  let onlyServed: ReadonlySet<string> | undefined;
  const routable = (platform: string) => !onlyServed || onlyServed.has(platform);
  const incidents = createIncidentService({ health, store, config: config.incidents, clock, log, onEnqueued, routable });
  const alerts = createAlertManager({
    health, config: config.alerts, clock, log, incidents, onEnqueued, routable, onCommitted: announce, checkConfig: (name) => byName.get(name)?.check,
    ...(deps.latencyChart ? { latencyChart: deps.latencyChart } : {}),
    expectedDown: async (cluster) => {
      const state = await engine.state();
      const when = (at: string) => `${at.slice(0, 16).replace('T', ' ')}Z`;
      const ks = state.killSwitch;
      if (ks.on) return `kill-switch on${ks.change ? ` by ${ks.change.by} at ${when(ks.change.at)}` : ''}`;
      const c = Object.hasOwn(state.clusters, cluster) ? state.clusters[cluster] : undefined;
      if (c && !c.enabled) return `${cluster} disabled${c.change ? ` by ${c.change.by} at ${when(c.change.at)}` : ''}`;
      return undefined;
    },
    windows: Object.fromEntries(Object.entries(config.clusters).map(([n, c]) => [n, c.maintenance])),
  });

  // Bounded concurrency across all probes.
  const limit = config.health.concurrency;
  let active = 0;
  const waiting: (() => void)[] = [];
  async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  }

  const replica = deps.replica ?? `${hostname()}-${process.pid}-${shortId(4)}`;
  const schedule = createLeasedSchedule({
    leases: health.leases, owner: replica, leaseMs: deps.leaseMs ?? parseDuration(config.health.leaseTime) ?? 30_000, startMs: clock.now().getTime(),
    items: checks.map((c) => ({ name: c.check.name, intervalMs: c.intervalMs })),
  });
  const inFlight = new Set<string>();
  const silences = createSilences({
    health, clock,
    // Own keys only: `__proto__` or `constructor` are not clusters.
    known: (target) => Object.hasOwn(config.clusters, target) || byName.has(target),
  });

  /**
   * Folds a probe outcome into the stored state and alerts in one unit of work; a conflicting write (another
   * replica, a command) makes it decide again on fresh rows. With `write`, a command commits the decision.
   */
  async function record(m: MonitoredCheck, outcome: ProbeOutcome, write?: BatchWriter): Promise<CheckState> {
    const decide = () => decideResult({ health, alerts, clock }, m, outcome);
    if (write) {
      const first = await decide();
      write({ batch: first.batch, redecide: async () => (await decide()).batch });
      return first.state;
    }
    const { state, transitions, batch } = await health.unit(async () => {
      const d = await decide();
      await health.commit(d.batch, clock.now().toISOString());
      return d;
    });
    announce(batch);
    if (transitions.length) {
      log.info({ check: m.check.name, status: state.status, transitions: transitions.map((t) => `${t.type}:${t.kind}`) }, 'check state changed');
      if (batch.outbox?.length) deliverer.kick();
    }
    return state;
  }

  async function probeAndRecord(m: MonitoredCheck, write?: BatchWriter) {
    inFlight.add(m.check.name);
    try {
      const outcome = await withSlot(() => runProbe(m.check, () => clock.now()));
      deps.observer?.probed?.(m.cluster, m.check.name, outcome.ok, outcome.latencyMs);
      const state = await record(m, outcome, write);
      return { outcome, state };
    } finally {
      inFlight.delete(m.check.name);
    }
  }

  const announceDeadLetters = (jobs: readonly DeadLetteredJob[]) =>
    announceDeadLettersTo({ health, clock, log, kick: () => deliverer.kick(), targets: () => channelTargets(config.alerts.adminChannels ?? config.alerts.defaultChannels).filter((t) => routable(t.platform)) }, jobs);

  /** Hourly, on one replica (a job lease): roll-ups, history retention, dead-lettering of undelivered notifications. */
  async function compact(): Promise<void> {
    if (!(await schedule.takeJob('compact', 3_600_000, clock.now()))) return;
    const now = clock.now().getTime();
    const iso = (ms: number) => new Date(now - ms).toISOString();
    const r = await health.compact(iso(parseDuration(config.health.rawRetention) ?? 172_800_000), iso(parseDuration(config.health.rollupRetention) ?? 7_776_000_000), {
      historyBefore: iso(historyMs),
      deadLetterBefore: iso(outboxMaxAgeMs),
      now: iso(0),
    });
    if (r.deadLettered.length) {
      deps.observer?.deadLettered?.(r.deadLettered);
      await announceDeadLetters(r.deadLettered);
    }
    for (const d of r.deadLettered) {
      log.error({ seq: d.seq, notification: d.notificationId, platform: d.platform, channel: d.channel, createdAt: d.createdAt }, 'notification given up: no process delivered it in time');
    }
    if (r.pruned) log.debug({ pruned: r.pruned }, 'history retention applied');
  }

  /**
   * Reminders, released silences, incident reminders, remediation, compaction, and an outbox drain. The
   * time-driven writes run on the replica that wins the round's job lease; each is also compare-and-set, so
   * one that ran twice anyway (a lease lost mid-round) still sends one reminder.
   */
  async function housekeeping(): Promise<void> {
    if (await schedule.takeJob('reminders', HOUSEKEEPING_MS, clock.now())) {
      if (config.health.enabled) {
        await alerts.tick();
        await incidents.tick();
        if (deps.run) await remediateDue({ health, clock, run: deps.run, log, checkOf: (name) => byName.get(name) });
      } else {
        // Without checks there are no alerts to remind of, but incidents declared from chat still need theirs.
        await incidents.tick();
      }
    }
    await compact();
    // A drain that failed left no timer behind; this is the safety net.
    await deliverer.drain();
  }
  function unservedRoutes(): { platform: string; channels: string[] }[] {
    const served = new Set(deliverer.platforms());
    const routed = [
      ...config.alerts.routes.flatMap((r) => channelTargets(r.channels)),
      ...channelTargets(config.alerts.defaultChannels),
      ...channelTargets(config.incidents.channels),
    ].filter((t) => !served.has(t.platform));
    const byPlatform = new Map<string, Set<string>>();
    for (const t of routed) byPlatform.set(t.platform, (byPlatform.get(t.platform) ?? new Set()).add(t.channel));
    return [...byPlatform].map(([platform, channels]) => ({ platform, channels: [...channels].sort() }));
  }

  /** Routes to a platform no adapter here serves would wait in the outbox silently; say so at start-up. */
  function warnUnservedPlatforms(): void {
    for (const { platform, channels } of unservedRoutes()) {
      log.warn(
        { platform, channels, served: deliverer.platforms(), queued: !onlyServed },
        onlyServed
          ? 'notifications are routed to a platform this process does not serve; they are not queued'
          : 'notifications are routed to a platform no running adapter serves; they wait in the outbox until a process that serves it delivers them',
      );
    }
  }

  let loopTimer: unknown;
  let houseTimer: unknown;
  let running = false;

  const amUrl = config.receivers.alertmanager.url;
  const monitor: HealthMonitor = {
    health, checks, alerts, incidents, deliverer, replica,
    ...(amUrl ? { silenceAtSource: silenceInAlertmanager(amUrl, { now: () => clock.now() }) } : {}),
    find(name) {
      const m = byName.get(name);
      if (!m) throw notFound(`No check named "${name}".`, `Checks: ${[...byName.keys()].sort().join(', ') || 'none configured'}`);
      return m;
    },
    runCheck: (name, write) => probeAndRecord(monitor.find(name), write),
    async runDue() {
      const due = (await schedule.takeDue(clock.now(), (name) => !inFlight.has(name))).map((name) => byName.get(name)!);
      await Promise.all(due.map((m) => probeAndRecord(m)));
      return due.length;
    },
    async tick() {
      await monitor.runDue();
      await housekeeping();
      await deliverer.drain();
    },
    addSilence: (input, batch) => silences.add(input, batch),
    endSilences: (target, kind, actor, batch) => silences.end(target, kind, actor, batch),
    async clusterOf({ check, alert, incident, target }) {
      if (check !== undefined) return byName.get(check)?.cluster;
      if (alert !== undefined) return alerts.clusterOf(alert);
      if (incident !== undefined) return (await health.incident(incident))?.cluster;
      if (target !== undefined) {
        if (Object.hasOwn(config.clusters, target)) return target;
        if (byName.has(target)) return byName.get(target)!.cluster;
        const s = await health.silence(target);
        return s && s.target !== target ? monitor.clusterOf({ target: s.target }) : undefined;
      }
      return undefined;
    },
    receiveAlerts(received) {
      const source = received[0]?.external.source ?? 'unknown';
      return (deps.tracer ?? noTracer).span('alerts.receive', { 'alerts.source': source, 'alerts.count': received.length }, async () => {
        // One unit of work: decided on rows read in it, decided again if another writer changed one meanwhile.
        const { batch, outcome } = await health.unit(async () => {
          const batch: HealthBatch = {};
          const outcome = await alerts.receive(batch, received);
          if (batch.alerts?.length) {
            await (deps.tracer ?? noTracer).span('store.commit', { 'store.rows': batch.alerts.length + (batch.outbox?.length ?? 0) }, () => health.commit(batch, clock.now().toISOString()));
          }
          return { batch, outcome };
        });
        deps.observer?.received?.(source, outcome);
        announce(batch);
        if (batch.alerts?.length) {
          log.info({ ...outcome }, 'received alerts');
          if (batch.outbox?.length) deliverer.kick();
        }
        return outcome;
      });
    },
    afterCommand(opts, committed) {
      if (committed) announce(committed);
      deliverer.kick();
      // Alerts held back by an ended silence are notified now rather than at the next housekeeping round.
      if (opts?.release) void alerts.tick().catch((err) => log.error({ err }, 'releasing held alerts failed'));
    },
    unservedRoutes,
    start(opts) {
      if (running) return;
      running = true;
      if (opts?.onlyServedPlatforms) onlyServed = new Set(deliverer.platforms());
      // The deliverer and incident reminders run even with checks disabled: incidents are declared from chat.
      deliverer.start();
      const wake = () => {
        if (!running || !config.health.enabled) return;
        void monitor.runDue().catch((err) => log.error({ err }, 'probe round failed'));
        // Look again at the soonest due slot, and at least every second (a slot another replica left may free up).
        const nowMs = clock.now().getTime();
        const soonest = Math.min(schedule.soonest() ?? Infinity, nowMs + 1000);
        loopTimer = timers.setTimeout(wake, Math.max(5, soonest - nowMs));
      };
      const house = () => {
        if (!running) return;
        void housekeeping().catch((err) => log.error({ err }, 'housekeeping failed'));
        houseTimer = timers.setTimeout(house, 5000);
      };
      wake();
      house();
      warnUnservedPlatforms();
      log.info({ checks: config.health.enabled ? checks.length : 0, probing: config.health.enabled }, 'health monitor started');
    },
    async stop() {
      running = false;
      timers.clearTimeout(loopTimer);
      timers.clearTimeout(houseTimer);
      while (inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
      await deliverer.stop();
      // A clean stop hands this replica's checks over at their next slot instead of after the lease time.
      await schedule.release().catch((err) => log.warn({ err }, 'could not release the probe leases'));
    },
  };
  return monitor;
}
