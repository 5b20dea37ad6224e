import type { Logger } from 'pino';
import type { CheckConfig } from '../config/health-config-schema.js';
import type { InfrabotConfig } from '../config/config-schema.js';
import { notFound, UserError } from '../framework/errors.js';
import type { CheckState, HealthBatch, HealthStore, Silence } from '../store/health-store.js';
import type { Store } from '../store/store.js';
import { parseDuration } from '../util/duration.js';
import { shortId } from '../util/ids.js';
import { createAlertManager, type AlertManager } from './alerts/alert-manager.js';
import { systemReply } from './alerts/render-notification.js';
import { createOutboxDeliverer, type OutboxDeliverer } from './alerts/outbox-deliverer.js';
import { evaluateCheck, initialCheckState } from './checks/evaluate-check.js';
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
  find(name: string): MonitoredCheck;
  /** Probes one check now, records the result and acts on any state change. */
  runCheck(name: string): Promise<{ outcome: ProbeOutcome; state: CheckState }>;
  /** Probes every check whose time has come (by the clock), at most `concurrency` at once; resolves when done. */
  runDue(): Promise<number>;
  /** One round of everything time-driven: due probes, reminders, released silences, remediation, delivery. */
  tick(): Promise<void>;
  addSilence(input: { kind: Silence['kind']; target: string; forMs: number; reason: string; actor: string }): Promise<Silence>;
  endSilences(target: string, kind: Silence['kind'], actor: string): Promise<Silence[]>;
  start(): void;
  stop(): Promise<void>;
}

export interface HealthMonitorDeps {
  config: InfrabotConfig;
  health: HealthStore;
  store: Store;
  engine: Engine;
  timers: Timers;
  log: Logger;
}

/** Deterministic offset in [0, interval): spreads checks over their interval so they do not all fire at once. */
function spreadOffset(name: string, intervalMs: number): number {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return (h >>> 0) % intervalMs;
}

export async function createHealthMonitor(deps: HealthMonitorDeps): Promise<HealthMonitor> {
  const { config, health, store, engine, timers } = deps;
  const log = deps.log.child({ component: 'health' });
  const clock = engine.clock;
  const checks: MonitoredCheck[] = Object.entries(config.clusters).flatMap(([cluster, c]) =>
    c.checks.map((check) => ({ cluster, check, intervalMs: parseDuration(check.interval) ?? 30_000 })),
  );
  const byName = new Map(checks.map((c) => [c.check.name, c]));

  const deliverer = createOutboxDeliverer({ health, store, clock, timers, log: log.child({ component: 'outbox' }) });
  const onEnqueued = () => deliverer.kick();
  const incidents = createIncidentService({ health, store, config: config.incidents, clock, log, onEnqueued });
  const alerts = createAlertManager({
    health, config: config.alerts, clock, log, incidents, onEnqueued,
    windows: Object.fromEntries(Object.entries(config.clusters).map(([n, c]) => [n, c.maintenance])),
  });

  // Results are folded one at a time: probes run in parallel, decisions (read state → commit) do not interleave.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };

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

  const startMs = clock.now().getTime();
  const nextDue = new Map(checks.map((c) => [c.check.name, startMs + spreadOffset(c.check.name, c.intervalMs)]));
  const inFlight = new Set<string>();

  async function record(m: MonitoredCheck, outcome: ProbeOutcome): Promise<CheckState> {
    return serial(async () => {
      const at = clock.now().toISOString();
      const prev = (await health.checkState(m.check.name)) ?? initialCheckState(m.check, m.cluster, at);
      const { state, transitions } = evaluateCheck(m.check, prev, outcome, at);
      const batch: HealthBatch = {
        results: [{ check: m.check.name, at, ok: outcome.ok, latencyMs: outcome.latencyMs, ...(outcome.error ? { error: outcome.error } : {}) }],
        states: [state],
      };
      if (transitions.length) await alerts.apply(batch, m.cluster, m.check, transitions);
      await health.commit(batch, at);
      if (transitions.length) {
        log.info({ check: m.check.name, status: state.status, transitions: transitions.map((t) => `${t.type}:${t.kind}`) }, 'check state changed');
        if (batch.outbox?.length) deliverer.kick();
      }
      return state;
    });
  }

  async function probeAndRecord(m: MonitoredCheck) {
    inFlight.add(m.check.name);
    try {
      const outcome = await withSlot(() => runProbe(m.check, () => clock.now()));
      const state = await record(m, outcome);
      return { outcome, state };
    } finally {
      inFlight.delete(m.check.name);
    }
  }

  async function remediate(): Promise<void> {
    const now = clock.now();
    for (const s of await health.checkStates()) {
      const m = byName.get(s.check);
      const r = m?.check.remediation;
      if (!m || !r || s.status !== 'down' || s.remediatedAt || !s.downSince) continue;
      if (now.getTime() - Date.parse(s.downSince) < (parseDuration(r.after) ?? Infinity)) continue;
      const state = await engine.state();
      const change = engine.change(state, 'system');
      const reason = `auto-remediation: ${m.check.name} down since ${s.downSince}`;
      const changed = r.action === 'trip-breaker' ? change.tripBreaker(m.cluster, reason) : change.setClusterEnabled(m.cluster, false, reason);
      const command = r.action === 'trip-breaker' ? 'breaker trip' : 'cluster disable';
      const invocationId = `remediation-${shortId(12)}`;
      const result = await store.commit({
        invocationKey: `system:${invocationId}`,
        reply: systemReply({ title: `Automatic remediation: ${command} ${m.cluster}`, text: reason, severity: 'warning' }, now),
        expectedSeq: state.seq,
        events: change.events,
        state: change.state,
        audit: {
          at: now.toISOString(), platform: 'system', userId: 'system', userName: 'system', rawText: `${command} ${m.cluster} --reason "${reason}"`,
          command, args: { cluster: m.cluster, reason }, cluster: m.cluster, outcome: 'ok', traceId: shortId(), invocationId,
        },
      });
      if (!result.ok) continue; // another writer won; try again next tick
      const alert = await health.firingAlert(`down:${m.check.name}`);
      await health.commit(
        {
          states: [{ ...s, remediatedAt: now.toISOString() }],
          ...(alert ? { alertEvents: [{ alertId: alert.id, at: now.toISOString(), cluster: m.cluster, type: 'remediated' as const, actor: 'system', detail: `${command} ${m.cluster}${changed ? '' : ' (already in that state)'}` }] } : {}),
        },
        now.toISOString(),
      );
      log.warn({ check: m.check.name, cluster: m.cluster, action: r.action, changed }, 'automatic remediation');
    }
  }

  let lastCompaction = 0;

  /** Reminders, released silences, incident reminders, remediation, and hourly compaction. */
  async function housekeeping(): Promise<void> {
    await serial(async () => {
      await alerts.tick();
      await incidents.tick();
      await remediate();
    });
    const now = clock.now().getTime();
    if (now - lastCompaction > 3_600_000) {
      lastCompaction = now;
      await health.compact(
        new Date(now - (parseDuration(config.health.rawRetention) ?? 172_800_000)).toISOString(),
        new Date(now - (parseDuration(config.health.rollupRetention) ?? 7_776_000_000)).toISOString(),
      );
    }
  }
  let loopTimer: unknown;
  let houseTimer: unknown;
  let running = false;

  const monitor: HealthMonitor = {
    health, checks, alerts, incidents, deliverer,
    find(name) {
      const m = byName.get(name);
      if (!m) throw notFound(`No check named "${name}".`, `Checks: ${[...byName.keys()].sort().join(', ') || 'none configured'}`);
      return m;
    },
    runCheck: (name) => probeAndRecord(monitor.find(name)),
    async runDue() {
      const now = clock.now().getTime();
      const due = checks.filter((m) => !inFlight.has(m.check.name) && nextDue.get(m.check.name)! <= now);
      for (const m of due) {
        const prev = nextDue.get(m.check.name)!;
        // Keep the phase; skip missed slots after a stall rather than bursting to catch up.
        const next = prev + m.intervalMs;
        nextDue.set(m.check.name, next > now ? next : now + m.intervalMs - ((now - prev) % m.intervalMs));
      }
      await Promise.all(due.map(probeAndRecord));
      return due.length;
    },
    async tick() {
      await monitor.runDue();
      await housekeeping();
      await deliverer.drain();
    },
    async addSilence({ kind, target, forMs, reason, actor }) {
      const known = target in config.clusters || byName.has(target);
      if (!known) throw notFound(`No cluster or check named "${target}".`);
      const now = clock.now();
      const s: Silence = { id: shortId(6), kind, target, reason, createdBy: actor, startsAt: now.toISOString(), endsAt: new Date(now.getTime() + forMs).toISOString() };
      await health.commit({ silences: [s] }, now.toISOString());
      return s;
    },
    async endSilences(target, kind, actor) {
      const now = clock.now().toISOString();
      const active = (await health.silences({ activeAt: now, kind })).filter((s) => s.target === target || s.id === target);
      if (active.length === 0) throw new UserError('infra_invalid_state', `No active ${kind} for "${target}".`);
      const ended = active.map((s) => ({ ...s, endedAt: now, reason: `${s.reason} (ended by ${actor})` }));
      await health.commit({ silences: ended }, now);
      // Alerts held back by it are released on the next tick.
      void serial(() => alerts.tick()).catch((err) => log.error({ err }, 'releasing held alerts failed'));
      return ended;
    },
    start() {
      if (running || !config.health.enabled) return;
      running = true;
      deliverer.start();
      const wake = () => {
        if (!running) return;
        void monitor.runDue().catch((err) => log.error({ err }, 'probe round failed'));
        const soonest = Math.min(...[...nextDue.values()], clock.now().getTime() + 1000);
        loopTimer = timers.setTimeout(wake, Math.max(5, soonest - clock.now().getTime()));
      };
      const house = () => {
        if (!running) return;
        void housekeeping().catch((err) => log.error({ err }, 'housekeeping failed'));
        houseTimer = timers.setTimeout(house, 5000);
      };
      wake();
      house();
      log.info({ checks: checks.length }, 'health monitor started');
    },
    async stop() {
      running = false;
      timers.clearTimeout(loopTimer);
      timers.clearTimeout(houseTimer);
      await chain;
      await deliverer.stop();
    },
  };
  return monitor;
}
