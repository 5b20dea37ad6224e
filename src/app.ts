import type Database from 'better-sqlite3';
import { isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { COMMAND_GROUPS } from '../commands/index.js';
import type { InfrabotConfig } from './config/config-schema.js';
import { createEngine, systemClock, type Clock, type Engine } from './engine/engine.js';
import { createPipeline, type Pipeline } from './framework/pipeline.js';
import { createRegistry } from './framework/registry.js';
import { createSqliteStore, openSqliteDatabase } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
import { createHealthMonitor, type HealthMonitor } from './engine/health-monitor.js';
import { realTimers, type Timers } from './engine/timers.js';
import { createSqliteHealthStore } from './store/sqlite-health-store.js';
import { createControlChannel, type ControlChannel } from './engine/control-channel.js';
import { createTrafficMonitor, type TrafficMonitor } from './engine/traffic-monitor.js';
import { createRedisControlLink } from './redis/redis-control-link.js';
import { createSqliteScheduleStore } from './store/sqlite-schedule-store.js';
import { createScheduleRunner, type ScheduleRunner } from './schedules/schedule-runner.js';
import type { ScheduleService } from './engine/schedules/schedule-services.js';
import { parseDuration } from './util/duration.js';
import { syncConfiguredSummaries } from './schedules/sync-configured-summaries.js';
import { createCheckpointer, type AuditPost } from './audit/checkpointer.js';
import { createAuditService, type AuditService } from './audit/audit-service.js';
import { defaultKeyDir, loadSigningKey, requireOutsideDataDir } from './audit/signing-key.js';
import { shortId } from './util/ids.js';
import { createMetrics, noMetrics, type Metrics } from './metrics/create-metrics.js';
import { startTracing } from './tracing/start-tracing.js';
import { tracePipeline } from './tracing/trace-pipeline.js';
import type { Tracer } from './tracing/tracer.js';
import type { ApiKeyStore } from './store/api-key-store.js';
import { createSqliteApiKeyStore } from './store/sqlite-api-key-store.js';
import { createRunbooks, type Runbooks } from './engine/runbooks/start-runbooks.js';

/** How long a delivery id is remembered for duplicate detection; Slack and Discord retry within minutes. */
const INVOCATION_MEMORY_MS = 24 * 3_600_000;
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export interface App {
  config: InfrabotConfig;
  /** The embedded SQLite database, when the app runs on it (undefined with an injected store). */
  db?: Database.Database;
  store: Store;
  engine: Engine;
  pipeline: Pipeline;
  log: Logger;
  /** Health checks, alerts and incidents (SQLite-backed; not started until `health.start()`). */
  health?: HealthMonitor;
  /** Committed control state on its way to services: Redis (when configured), the SSE stream, in-process guards. */
  control: ControlChannel;
  /** Live traffic reported by guards, and automatic breaker trips. */
  traffic: TrafficMonitor;
  /** OpenTelemetry spans (a no-op unless `tracing.otlpEndpoint` is set). */
  tracer: Tracer;
  /** infrabot's own Prometheus metrics (served by src/http/metrics-routes.ts). */
  metrics: Metrics;
  /** Scheduled operations and reverts of time-limited actions (SQLite-backed; not started until `schedules.start()`). */
  schedules?: ScheduleRunner;
  /** The audit signing key, checkpoints, verification and reports (see docs/audit.md). */
  audit: AuditService & { keyDir: string; dataDir: string };
  /** API keys of the HTTP API (SQLite-backed). */
  apiKeys?: ApiKeyStore;
  /** Runbooks: run records, the queue (BullMQ with Redis, else in-process) and progress messages (docs/runbooks.md). */
  runbooks: Runbooks;
  close(): Promise<void>;
}

/**
 * Where the audit key and checkpoint file live: INFRABOT_KEY_DIR / INFRABOT_WITNESS_FILE, else the config,
 * else ~/.config/infrabot/keys. Both must be outside the data directory; throws SigningKeyError otherwise.
 */
export function auditPaths(config: InfrabotConfig, dataDir: string, env: NodeJS.ProcessEnv = process.env, keyDir?: string): { keyDir: string; witnessFile: string } {
  const dir = resolve(keyDir ?? (env.INFRABOT_KEY_DIR || undefined) ?? config.audit.keyDir ?? defaultKeyDir(env));
  const witnessFile = resolve(env.INFRABOT_WITNESS_FILE || config.audit.witnessFile || join(dir, 'checkpoints.jsonl'));
  requireOutsideDataDir(witnessFile, dataDir, 'the audit checkpoint file');
  return { keyDir: dir, witnessFile };
}

export interface AppOptions {
  config: InfrabotConfig;
  /** Prometheus metrics (default on); one-shot CLI runs turn them off so prom-client is never loaded. */
  metrics?: boolean;
  dataDir: string;
  log: Logger;
  clock?: Clock;
  /** Users who are admins in this process only (the local console/CLI user). */
  localAdmins?: readonly string[];
  /** Use this store instead of opening the configured SQLite file. */
  store?: Store;
  /** Timers of the health scheduler and outbox (tests pass fakes). */
  timers?: Timers;
  /** The audit key directory (overrides INFRABOT_KEY_DIR and the config; tests use a temporary one). */
  keyDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Wires config → store → engine → command pipeline. Adapters take the pipeline and nothing else. */
export async function createApp(opts: AppOptions): Promise<App> {
  // The key first: a key refused for its permissions stops the start before anything is opened.
  const env = opts.env ?? process.env;
  const paths = auditPaths(opts.config, opts.dataDir, env, opts.keyDir);
  const key = loadSigningKey({ keyDir: paths.keyDir, dataDir: opts.dataDir, env });
  const file = isAbsolute(opts.config.storage.file) ? opts.config.storage.file : join(opts.dataDir, opts.config.storage.file);
  // One SQLite handle for the process; every SQLite-backed store of this app shares it.
  const db = opts.store ? undefined : openSqliteDatabase(file);
  const stored = opts.store ?? (await createSqliteStore({ db: db! }));
  const clock = opts.clock ?? systemClock;
  let post: ((message: AuditPost) => Promise<void>) | undefined;
  const checkpointer = await createCheckpointer({
    store: stored,
    key,
    every: opts.config.audit.checkpoint.records,
    intervalMs: parseDuration(opts.config.audit.checkpoint.interval)!,
    witnessFile: paths.witnessFile,
    trusted: opts.config.audit.trustedKeys,
    post: (message) => post?.(message) ?? Promise.resolve(),
    clock,
    log: opts.log,
  });
  const publisher = opts.config.redis.url
    ? createRedisControlLink({ url: opts.config.redis.url, prefix: opts.config.redis.prefix, log: opts.log.child({ component: 'control-channel' }) })
    : undefined;
  // Set once the engine exists; commits cannot happen before that.
  let channel: ControlChannel | undefined;
  let traffic: TrafficMonitor | undefined;
  const tracer = await startTracing(opts.config.tracing, opts.log.child({ component: 'tracing' }));
  const healthStore = db ? await createSqliteHealthStore({ db }) : undefined;
  const metrics = opts.metrics === false ? noMetrics : await createMetrics({
    ...(healthStore ? { health: healthStore } : {}),
    traffic: () => traffic?.live() ?? Promise.resolve(undefined),
    redisConfigured: Boolean(opts.config.redis.url),
    lastCheckpointAt: async () => (await stored.latestCheckpoint())?.at,
    now: () => (opts.clock ?? systemClock).now().getTime(),
    log: opts.log.child({ component: 'metrics' }),
  });
  // Every commit that changes control state (commands, the health monitor's remediation) is published after it
  // lands; every commit tells the checkpointer how long the audit log is (it checkpoints every N records).
  const store: Store = {
    ...stored,
    async commit(input) {
      const started = performance.now();
      const result = await tracer.span('store.commit', { 'store.events': input.events.length }, () => stored.commit(input));
      metrics.storeCommitted((performance.now() - started) / 1000);
      if (result.ok && result.events.length > 0 && input.state) channel?.committed({ ...input.state, seq: result.events.at(-1)!.seq });
      if (result.ok) checkpointer.appended(result.audit.id);
      return result;
    },
  };
  const engine = createEngine({ store, config: opts.config, clock: opts.clock ?? systemClock });
  const registry = createRegistry(COMMAND_GROUPS);
  const health = healthStore
    ? await createHealthMonitor({ config: opts.config, health: healthStore, store, engine, timers: opts.timers ?? realTimers, log: opts.log, observer: metrics.health, tracer })
    : undefined;
  channel = createControlChannel({ engine, ...(publisher ? { publisher } : {}), log: opts.log.child({ component: 'control-channel' }) });
  const control = channel;
  const apiKeys = db ? createSqliteApiKeyStore(db) : undefined;
  let runner: ScheduleRunner | undefined;
  const scheduleService: ScheduleService | undefined = db
    ? {
        store: createSqliteScheduleStore(db),
        timezone: opts.config.schedules.timezone,
        misfireGraceMs: parseDuration(opts.config.schedules.misfireGrace) ?? 600_000,
        kick: () => runner?.kick(),
      }
    : undefined;
  const audit = createAuditService({ store, registry, key, witnessFile: paths.witnessFile, trustedKeys: opts.config.audit.trustedKeys, checkpointer, ...(apiKeys ? { apiKeys } : {}) });
  // Run records: a second connection to the bot's SQLite file (in memory with an injected store) until the
  // shared SqlDb store lands; see docs/runbooks.md.
  const runbooks = await createRunbooks({
    config: opts.config, ...(db ? { file } : {}), store, ...(healthStore ? { health: healthStore } : {}), clock, log: opts.log, env,
    ...(health
      ? {
          noteIncident: async (cluster: string, text: string) => {
            const open = await health.incidents.openFor(cluster);
            if (!open) return;
            const batch = {};
            await health.incidents.update(open.id, text, 'system', batch);
            await health.health.commit(batch, clock.now().toISOString());
            health.deliverer.kick();
          },
        }
      : {}),
  });
  let pipeline: Pipeline | undefined;
  traffic = createTrafficMonitor({ engine, ...(publisher ? { publisher } : {}), run: (inv) => pipeline!.handle(inv), log: opts.log.child({ component: 'traffic' }) });
  pipeline = tracePipeline(createPipeline({
    registry, engine, store, log: opts.log,
    onFinished: (e) => metrics.commandFinished(e),
    ...(opts.localAdmins ? { localAdmins: opts.localAdmins } : {}),
    services: {
      audit,
      ...(health ? { health } : {}),
      ...(scheduleService ? { schedules: scheduleService } : {}),
      control: { channel: control, traffic },
      ...(apiKeys ? { apiKeys } : {}),
      runbooks: runbooks.service,
    },
  }), tracer, Boolean(opts.config.tracing.otlpEndpoint));
  await control.start();
  traffic.start();
  if (db && scheduleService) {
    const { added, removed } = db.transaction(() =>
      syncConfiguredSummaries(scheduleService.store, opts.config.schedules.summaries, scheduleService.store.listSync(), clock.now()),
    ).immediate();
    if (added || removed) opts.log.info({ added, removed }, 'summary posts from the config brought up to date');
  }
  if (health && scheduleService) {
    runner = createScheduleRunner({
      pipeline: pipeline!, schedules: scheduleService.store, health: health.health, store, clock: opts.clock ?? systemClock,
      timers: opts.timers ?? realTimers, log: opts.log.child({ component: 'schedules' }), misfireGraceMs: scheduleService.misfireGraceMs,
      onPosted: () => health.deliverer.kick(),
    });
  }
  if (health) post = (message) => postToAuditChannels(health, opts.config, message, clock);
  // Duplicate-delivery keys and expired buttons are only needed for a while; without this they grow forever.
  const prune = () => {
    const before = new Date(clock.now().getTime() - INVOCATION_MEMORY_MS).toISOString();
    // Idempotency keys live as long as the invocation keys their replays are read from.
    return Promise.all([store.prune(before), apiKeys?.prune(before) ?? 0])
      .then(([a, b]) => a + b > 0 && opts.log.debug({ rows: a + b }, 'pruned old invocation and idempotency keys and expired buttons'))
      .catch((err: unknown) => opts.log.warn({ err }, 'pruning invocation keys failed; will try again'));
  };
  // Firing history is kept as long as alert history (health.historyRetention).
  const historyMs = parseDuration(opts.config.health.historyRetention) ?? 30 * 86_400_000;
  const pruneSchedules = () =>
    scheduleService?.store
      .prune(new Date(clock.now().getTime() - historyMs).toISOString())
      .then((n) => n > 0 && opts.log.debug({ rows: n }, 'pruned old schedule firings'))
      .catch((err: unknown) => opts.log.warn({ err }, 'pruning schedule firings failed; will try again'));
  const housekeeping = setInterval(() => void prune().then(pruneSchedules), HOUSEKEEPING_INTERVAL_MS).unref();
  return {
    config: opts.config,
    ...(db ? { db } : {}),
    store,
    engine,
    pipeline,
    log: opts.log,
    ...(health ? { health } : {}),
    control,
    traffic,
    metrics,
    tracer,
    ...(runner ? { schedules: runner } : {}),
    audit: Object.assign(audit, { keyDir: paths.keyDir, dataDir: opts.dataDir }),
    ...(apiKeys ? { apiKeys } : {}),
    runbooks,
    close: async () => {
      clearInterval(housekeeping);
      await runbooks.stop();
      await runner?.stop();
      await checkpointer.stop();
      await traffic.stop();
      await control.stop();
      await health?.stop();
      await store.close();
      await tracer.shutdown();
    },
  };
}

/** Queues a line (a checkpoint, a state warning) for every configured audit channel on the durable outbox. */
async function postToAuditChannels(health: HealthMonitor, config: InfrabotConfig, message: AuditPost, clock: Clock): Promise<void> {
  const targets = Object.entries(config.audit.channels).filter((e): e is [string, string] => Boolean(e[1]));
  if (targets.length === 0) return;
  const at = clock.now().toISOString();
  const body = { title: message.title, text: message.text, severity: message.severity, visibility: 'channel' as const, outcome: 'ok' as const, traceId: shortId(), time: at };
  // A 'reply' job with no message to thread under is posted on its own (see the outbox deliverer).
  await health.health.commit({ outbox: targets.map(([platform, channel]) => ({ platform, channel, notificationId: message.id, op: 'reply', body })) }, at);
  health.deliverer.kick();
}
