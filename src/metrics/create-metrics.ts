import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { ClusterTraffic } from '@infrabot/guard';
import type { HealthObserver } from '../engine/health-monitor.js';
import type { LifecycleEventOf } from '../engine/lifecycle-events.js';
import type { HealthStore } from '../store/health-store.js';

/**
 * infrabot's own Prometheus metrics (docs/observability.md). Counters and histograms are fed by lifecycle
 * subscribers of the lifecycle bus (`command.finished`, `command.committed`) and the health monitor's observer;
 * levels (outbox depth, firing alerts, incidents, guard traffic, Redis) are read from their source at scrape
 * time, so every replica reports the shared truth and nothing is kept in step by hand.
 */
export interface Metrics {
  /** Undefined when metrics are off (one-shot CLI runs). */
  readonly registry?: Registry;
  commandFinished(e: Pick<LifecycleEventOf<'command.finished'>, 'command' | 'platform' | 'outcome' | 'durationMs'>): void;
  readonly health: HealthObserver;
  storeCommitted(seconds: number): void;
  /** The Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsSources {
  health?: HealthStore;
  /** Live guard traffic per cluster (Redis); undefined when Redis is not configured or unreachable. */
  traffic?: () => Promise<Record<string, ClusterTraffic> | undefined>;
  /** The newest audit checkpoint's time (ISO), if any checkpoint exists. */
  lastCheckpointAt?: () => Promise<string | undefined>;
  /** Whether Redis is configured at all (then `infrabot_redis_up` is exported). */
  redisConfigured?: boolean;
  log: Logger;
  /** Wall clock for ages (ms since epoch). */
  now?: () => number;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Metrics off (one-shot CLI runs): prom-client is never loaded (it costs tens of ms at start-up). */
export const noMetrics: Metrics = {
  commandFinished: () => undefined,
  health: {},
  storeCommitted: () => undefined,
  render: async () => '',
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
};

export async function createMetrics(src: MetricsSources): Promise<Metrics> {
  const { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } = await import('prom-client');
  const registry = new Registry();
  const now = src.now ?? Date.now;
  collectDefaultMetrics({ register: registry, prefix: 'infrabot_' });
  // Gauges named like counters (promtool refuses them); the per-type `infrabot_nodejs_active_*` gauges remain.
  for (const n of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`infrabot_nodejs_active_${n}_total`);
  const registers = [registry];

  const commands = new Counter({ name: 'infrabot_commands_total', help: 'Invocations by command, outcome and platform', labelNames: ['command', 'outcome', 'platform'], registers });
  const commandSeconds = new Histogram({ name: 'infrabot_command_duration_seconds', help: 'Invocation latency from receipt to reply', labelNames: ['command', 'platform'], buckets: LATENCY_BUCKETS, registers });
  const chatCalls = new Counter({ name: 'infrabot_chat_api_calls_total', help: 'Notification hand-offs to a chat API by platform and result', labelNames: ['platform', 'result'], registers });
  const retries = new Counter({ name: 'infrabot_chat_api_retries_total', help: 'Failed hand-offs that will be retried', labelNames: ['platform'], registers });
  const dead = new Counter({ name: 'infrabot_notifications_dead_lettered_total', help: 'Notifications given up on', labelNames: ['platform'], registers });
  const probes = new Counter({ name: 'infrabot_probe_results_total', help: 'Health check probe results', labelNames: ['cluster', 'check', 'result'], registers });
  const probeSeconds = new Histogram({ name: 'infrabot_probe_duration_seconds', help: 'Health check probe latency', labelNames: ['cluster', 'check'], buckets: LATENCY_BUCKETS, registers });
  const received = new Counter({ name: 'infrabot_received_alerts_total', help: 'Alerts received from Alertmanager or Grafana, by what they changed', labelNames: ['source', 'outcome'], registers });
  const commitSeconds = new Histogram({ name: 'infrabot_store_commit_duration_seconds', help: 'Store commit latency (control changes and audit records)', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers });

  const gauge = (name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers });
  const outboxDepth = gauge('infrabot_outbox_pending_jobs', 'Notification jobs waiting in the outbox', ['platform']);
  const outboxAge = gauge('infrabot_outbox_oldest_job_age_seconds', 'Age of the oldest pending outbox job', ['platform']);
  const outboxDead = gauge('infrabot_outbox_dead_jobs', 'Dead-lettered outbox jobs still kept', ['platform']);
  const firing = gauge('infrabot_alerts_firing', 'Firing alerts by cluster and severity (probes and received)', ['cluster', 'severity']);
  const incidents = gauge('infrabot_incidents_open', 'Open incidents by cluster', ['cluster']);
  const guardRate = gauge('infrabot_guard_decisions_per_second', 'Guard decisions per second over the live window, by cluster and decision (allowed or the deny reason)', ['cluster', 'decision']);
  const checkpointAt = gauge('infrabot_audit_checkpoint_timestamp_seconds', 'Time of the newest signed audit checkpoint (absent until the first)', []);
  const redisUp = src.redisConfigured ? gauge('infrabot_redis_up', '1 when Redis answered the last scrape', []) : undefined;

  /** Levels are replaced wholesale at each scrape: a cluster whose alerts all resolved must drop to nothing. */
  async function collectLevels(): Promise<void> {
    if (src.health) {
      const g = await src.health.gauges();
      outboxDepth.reset();
      outboxAge.reset();
      outboxDead.reset();
      firing.reset();
      incidents.reset();
      for (const o of g.outbox) {
        outboxDepth.set({ platform: o.platform }, o.pending);
        outboxAge.set({ platform: o.platform }, Math.max(0, (now() - Date.parse(o.oldestAt)) / 1000));
      }
      for (const d of g.deadLettered) outboxDead.set({ platform: d.platform }, d.count);
      for (const f of g.firing) firing.set({ cluster: f.cluster, severity: f.severity }, f.count);
      for (const i of g.openIncidents) incidents.set({ cluster: i.cluster }, i.count);
    }
    const at = await src.lastCheckpointAt?.();
    checkpointAt.reset();
    if (at) checkpointAt.set(Date.parse(at) / 1000);
    if (src.traffic) {
      const live = await src.traffic().catch(() => undefined);
      guardRate.reset();
      redisUp?.set(live ? 1 : 0);
      for (const [cluster, t] of Object.entries(live ?? {})) {
        guardRate.set({ cluster, decision: 'allowed' }, t.allowedPerSecond);
        for (const [reason, rate] of Object.entries(t.deniedPerSecond)) guardRate.set({ cluster, decision: reason }, rate ?? 0);
      }
    }
  }

  return {
    registry,
    contentType: registry.contentType,
    commandFinished(e) {
      const command = e.command ?? 'unparsed';
      commands.inc({ command, outcome: e.outcome, platform: e.platform });
      commandSeconds.observe({ command, platform: e.platform }, e.durationMs / 1000);
    },
    health: {
      probed(cluster, check, ok, latencyMs) {
        probes.inc({ cluster, check, result: ok ? 'ok' : 'fail' });
        probeSeconds.observe({ cluster, check }, latencyMs / 1000);
      },
      delivered(job) {
        chatCalls.inc({ platform: job.platform, result: 'ok' });
      },
      deliveryFailed(job, reason, isDead) {
        chatCalls.inc({ platform: job.platform, result: reason });
        if (isDead) dead.inc({ platform: job.platform });
        else retries.inc({ platform: job.platform });
      },
      deadLettered(jobs) {
        for (const j of jobs) dead.inc({ platform: j.platform });
      },
      received(source, o) {
        received.inc({ source, outcome: 'fired' }, o.fired);
        received.inc({ source, outcome: 'resolved' }, o.resolved);
        received.inc({ source, outcome: 'unchanged' }, o.unchanged);
      },
    },
    storeCommitted(seconds) {
      commitSeconds.observe(seconds);
    },
    async render() {
      try {
        await collectLevels();
      } catch (err) {
        // A scrape still answers with the counters; the levels keep their last values.
        src.log.warn({ err }, 'metrics: reading current levels failed');
      }
      return registry.metrics();
    },
  };
}
