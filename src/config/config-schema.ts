import { z } from 'zod';
import { checkRateLimits, MAX_RATE_LIMIT } from '../engine/check-rate-limits.js';
import { parseDuration } from '../util/duration.js';
import { subjectProblem } from '../auth/subjects.js';
import { checkPattern } from '../engine/alerts/maintenance-windows.js';
import { auditSchema } from './audit-config-schema.js';
import { receiversSchema } from './receivers-config-schema.js';
import { runbooksSettingsSchema, servicesSchema } from './runbooks-config-schema.js';
import { alertsSchema, checkSchema, healthSchema, incidentsSchema, recurringWindowSchema, simulationSchema, type RecurringWindow } from './health-config-schema.js';

const duration = z
  .string()
  .refine((v) => parseDuration(v) !== undefined, 'expected a duration such as 30s, 5m, 2h or 1d');

const rateLimit = z.number().int().positive().max(MAX_RATE_LIMIT);

export const rateLimitsSchema = z
  .object({ perMinute: rateLimit, perHour: rateLimit, perDay: rateLimit })
  .strict()
  .superRefine((l, ctx) => {
    const problem = checkRateLimits(l);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const clusterSchema = z
  .object({
    description: z.string().default(''),
    rateLimits: rateLimitsSchema,
    breaker: z
      .object({
        cooldown: duration.default('5m'),
        /** Share of requests guards let through while half-open (trial traffic). */
        trickle: z.number().min(0).max(1).default(0.1),
        /** Trip automatically (as `system`) when guards report this error rate; absent = never automatically. */
        autoTrip: z
          .object({
            errorRate: z.number().gt(0).max(1),
            /** Fewer finished requests than this in the window never trip (a single failure is not a trend). */
            minRequests: z.number().int().positive().default(20),
            window: duration.default('30s'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ cooldown: '5m', trickle: 0.1 }),
    /** What guards do with rate limits when Redis is unreachable: allow (open) or refuse with 503 (closed). */
    failMode: z.enum(['open', 'closed']).default('open'),
    /** Health checks of this cluster (docs/health.md). */
    checks: z.array(checkSchema).default([]),
    /** Recurring maintenance windows: alerts are held back while one is open. */
    maintenance: z.array(recurringWindowSchema).default([]),
    /**
     * Adaptive rate limits: the configured limits are the ceiling; while guards report errors or slow responses
     * the enforced limits step down (× decrease) to no lower than `floor`, and recover by `increase` of the
     * ceiling per healthy interval. Off unless present; `ratelimit adaptive on|off` switches it at run time.
     */
    adaptive: z
      .object({
        floor: z.object({ perMinute: rateLimit }).strict(),
        errorRate: z.number().gt(0).max(1).default(0.05),
        /** Average latency guards report, in ms, above which the cluster counts as degraded. */
        latencyMs: z.number().positive().default(1000),
        minRequests: z.number().int().positive().default(20),
        window: duration.default('30s'),
        decrease: z.number().gt(0).lt(1).default(0.5),
        increase: z.number().gt(0).max(1).default(0.1),
        /** At most one step per interval (all replicas together). */
        interval: duration.default('30s'),
        /** At most one announcement in the cluster's channel per this long. */
        announceEvery: duration.default('10m'),
      })
      .strict()
      .optional(),
    /** The team that pays for this cluster (`costs --by team`, team budgets). */
    team: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'team names are lower-case letters, digits and dashes').optional(),
    /** Price of each billable action, in the billing currency: used when a reservation gives no amount. */
    prices: z.record(z.string().regex(/^[\w.:-]{1,64}$/, 'action names are letters, digits, ".", ":", "_" or "-"'), z.number().positive().max(1_000_000_000)).default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.adaptive && c.adaptive.floor.perMinute > c.rateLimits.perMinute) {
      ctx.addIssue({ code: 'custom', path: ['adaptive', 'floor', 'perMinute'], message: `the floor (${c.adaptive.floor.perMinute}) must not exceed the per-minute limit (${c.rateLimits.perMinute}), which is the ceiling` });
    }
  });

/** Costs, budgets and their alerts and throttling (docs/budgets.md). */
export const billingSchema = z
  .object({
    /** The currency of prices and of budgets set without --currency. */
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD').default('USD'),
    /** Shares of a budget at which an alert fires, once per budget period each. */
    thresholds: z.array(z.number().gt(0).max(10)).min(1).default([0.8, 1]),
    /** Smart throttling: from `from` of a budget spent, limits shrink linearly down to `minFactor` at 100 %. */
    throttle: z
      .object({ enabled: z.boolean().default(false), from: z.number().gt(0).lt(1).default(0.8), minFactor: z.number().gt(0).max(1).default(0.25) })
      .strict()
      .default({ enabled: false, from: 0.8, minFactor: 0.25 }),
    /** How often budgets are evaluated and confirmed charges collected from Redis. */
    interval: duration.default('30s'),
  })
  .strict();

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as UTC, Europe/Berlin or America/New_York');

/** A summary post configured for a channel: daily or weekly, at a time of day in a zone. */
const summaryPostSchema = z
  .object({
    channel: z.string().regex(/^(slack|discord|console):[\w.-]{1,80}$/, 'expected a platform-qualified channel such as slack:C0123OPS or discord:1234567890'),
    every: z.enum(['daily', 'weekly']),
    at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as HH:MM, e.g. 09:00'),
    /** Weekly posts: the day (default mon). */
    day: z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']).optional(),
    timezone: timeZone.default('UTC'),
    /** Period covered (default 24h daily, 7d weekly). */
    since: duration.optional(),
    cluster: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional(),
  })
  .strict();

/** Scheduled operations and time-limited actions (docs/schedules.md). */
const schedulesSchema = z
  .object({
    /** Zone of `schedule add` without --tz and of `--until 18:00`. */
    timezone: timeZone.default('UTC'),
    /** A fire time missed by more than this (the bot was down) is skipped and the channel told. */
    misfireGrace: duration.default('10m'),
    /** Summary posts per channel. */
    summaries: z.array(summaryPostSchema).default([]),
  })
  .strict();

export type SummaryPostConfig = z.infer<typeof summaryPostSchema>;

const subject = z.string().superRefine((value, ctx) => {
  const problem = subjectProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `expected a platform-qualified id such as local:alice or slack:U123ABC; ${problem}` });
});

/** The HTTP control API (docs/api.md): on by default, on loopback only, so the embedded default stays private. */
export const httpSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (tests). */
    port: z.number().int().min(0).max(65535).default(18090),
    /** Largest request body accepted, in bytes; larger ones get 413. */
    bodyLimit: z.number().int().min(1024).max(10 * 1024 * 1024).default(16 * 1024),
    /** Requests each API key may make per minute on this process (a burst up to the same number); over it: 429. */
    rateLimit: z.object({ perMinute: z.number().int().positive().max(1_000_000).default(600) }).strict().default({ perMinute: 600 }),
  })
  .strict();

export const configSchema = z
  .object({
    clusters: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'cluster names are lower-case letters, digits and dashes'), clusterSchema)
      .refine((c) => Object.keys(c).length > 0, 'define at least one cluster'),
    admins: z.array(subject).default([]),
    storage: z
      .object({
        /** The embedded SQLite database, relative to the data directory (used when no PostgreSQL URL is set). */
        file: z.string().default('infrabot.db'),
        /** postgres://… selects PostgreSQL (several replicas may share it); else the DATABASE_URL environment variable. */
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//i, 'expected a postgres:// or postgresql:// URL')
          .optional(),
      })
      .strict()
      .default({ file: 'infrabot.db' }),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .strict()
      .default({ level: 'info' }),
    health: healthSchema.default(healthSchema.parse({})),
    alerts: alertsSchema.default(alertsSchema.parse({})),
    incidents: incidentsSchema.default(incidentsSchema.parse({})),
    /** Alerts received from Alertmanager and Grafana (docs/alerts-from-prometheus.md). */
    receivers: receiversSchema.default(receiversSchema.parse({})),
    /** OpenTelemetry traces over OTLP/HTTP (docs/observability.md); off unless an endpoint is set. */
    tracing: z
      .object({
        otlpEndpoint: z
          .string()
          .optional()
          .transform((u) => (u ? u : undefined))
          .refine((u) => u === undefined || /^https?:\/\//.test(u), 'expected an http:// or https:// URL such as http://otel-collector:4318'),
        serviceName: z.string().min(1).default('infrabot'),
      })
      .strict()
      .default({ otlpEndpoint: undefined, serviceName: 'infrabot' }),
    /** The control channel to services (docs/guard.md). Without a URL, guards use the API's SSE stream. */
    redis: z
      .object({
        url: z
          .string()
          .optional()
          .transform((u) => (u ? u : undefined))
          .refine((u) => u === undefined || /^rediss?:\/\//.test(u), 'expected a redis:// or rediss:// URL'),
        prefix: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, dots, dashes and underscores').default('infrabot'),
      })
      .strict()
      .default({ url: undefined, prefix: 'infrabot' }),
    schedules: schedulesSchema.default(schedulesSchema.parse({})),
    simulation: simulationSchema.default({ enabled: false, controlPort: 0, services: [] }),
    audit: auditSchema.default(auditSchema.parse({})),
    http: httpSchema.default(httpSchema.parse({})),
    billing: billingSchema.default(billingSchema.parse({})),
    /** Services with runbooks, logs and metrics (docs/runbooks.md). */
    services: servicesSchema,
    runbooks: runbooksSettingsSchema.default(runbooksSettingsSchema.parse({})),
  })
  .strict()
  // `when`: runs even when other parts of the file are wrong, so one bad value does not hide these problems;
  // the value may then be partly unparsed, hence the defensive reading.
  .superRefine(checkAcrossClusters, { when: () => true })
  .superRefine((c, ctx) => {
    for (const [name, svc] of Object.entries(c.services)) {
      if (!Object.hasOwn(c.clusters, svc.cluster)) ctx.addIssue({ code: 'custom', path: ['services', name, 'cluster'], message: `no cluster named "${svc.cluster}" (known: ${Object.keys(c.clusters).sort().join(', ')})` });
      for (const [rb, r] of Object.entries(svc.runbooks)) {
        if (r.onFailure && !Object.hasOwn(svc.runbooks, r.onFailure)) ctx.addIssue({ code: 'custom', path: ['services', name, 'runbooks', rb, 'onFailure'], message: `no runbook named "${r.onFailure}" in service ${name}` });
      }
    }
    c.schedules.summaries.forEach((s, i) => {
      if (s.cluster && !Object.hasOwn(c.clusters, s.cluster)) {
        ctx.addIssue({ code: 'custom', path: ['schedules', 'summaries', i, 'cluster'], message: `no cluster named "${s.cluster}" (known: ${Object.keys(c.clusters).sort().join(', ')})` });
      }
      if (s.day && s.every === 'daily') ctx.addIssue({ code: 'custom', path: ['schedules', 'summaries', i, 'day'], message: 'a daily summary has no day; remove it or use every: weekly' });
    });
  });

function checkAcrossClusters(c: { clusters?: unknown }, ctx: z.RefinementCtx): void {
  const clusters = c.clusters && typeof c.clusters === 'object' ? Object.entries(c.clusters as Record<string, unknown>) : [];
  // Check names are global: commands and alerts refer to a check by name alone.
  const seen = new Set<string>();
  for (const [cluster, raw] of clusters) {
    const cc = (raw ?? {}) as { checks?: unknown; maintenance?: unknown };
    (Array.isArray(cc.checks) ? cc.checks : []).forEach((check: unknown, i) => {
      const name = (check as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return;
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['clusters', cluster, 'checks', i, 'name'], message: `duplicate check name "${name}"` });
      seen.add(name);
    });
    // A pattern croner refuses would otherwise throw on every alert of the cluster and in housekeeping.
    (Array.isArray(cc.maintenance) ? cc.maintenance : []).forEach((w: unknown, i) => {
      const window = w as RecurringWindow | null;
      if (!window || typeof window !== 'object' || typeof window.duration !== 'string') return;
      let problem: string | undefined;
      try {
        // The pattern alone (a bad time zone is reported on its own field).
        problem = checkPattern({ ...window, timezone: 'UTC' });
      } catch {
        return; // a field problem (e.g. neither cron nor start) is reported on that field
      }
      if (problem) {
        ctx.addIssue({ code: 'custom', path: ['clusters', cluster, 'maintenance', i, window.cron !== undefined ? 'cron' : 'start'], message: `invalid maintenance window pattern: ${problem}` });
      }
    });
  }
}

export type InfrabotConfig = z.infer<typeof configSchema>;
export type ClusterConfig = InfrabotConfig['clusters'][string];
export type RateLimits = z.infer<typeof rateLimitsSchema>;
