import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/** Config for health checks, alert routing, maintenance windows, incidents and the simulated fleet. */

// `abort`: a value that is no duration at all gets one message, not also "must be at least …".
const duration = z.string().refine((v) => parseDuration(v) !== undefined, { message: 'expected a duration such as 30s, 5m, 2h or 1d', abort: true });
const durationAtLeast = (min: string) =>
  duration.refine((v) => (parseDuration(v) ?? 0) >= parseDuration(min)!, `must be at least ${min}`);

const checkName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'check names are lower-case letters, digits, dots, dashes');

const commonCheck = {
  name: checkName,
  interval: durationAtLeast('10s').default('30s'),
  timeout: duration.default('5s'),
  /** Consecutive failures before the check is DOWN. */
  failureThreshold: z.number().int().min(1).default(3),
  /** Consecutive successes before a DOWN check is UP again (so flapping does not spam). */
  successThreshold: z.number().int().min(1).default(2),
  severity: z.enum(['warning', 'critical']).default('critical'),
  /** Latency anomaly detection against the check's own EWMA baseline. */
  degraded: z
    .object({
      enabled: z.boolean().default(true),
      zScore: z.number().positive().default(3),
      /** Ignore departures smaller than this many ms (loopback latencies have near-zero variance). */
      minDeltaMs: z.number().nonnegative().default(25),
      /** Consecutive anomalous samples before DEGRADED. */
      after: z.number().int().min(1).default(3),
    })
    .strict()
    .default({ enabled: true, zScore: 3, minDeltaMs: 25, after: 3 }),
  /** Open an incident of this severity automatically when the check goes DOWN. */
  incident: z.object({ sev: z.number().int().min(1).max(4) }).strict().optional(),
  /** Automatic remediation after sustained failure, audited as the `system` user. */
  remediation: z
    .object({ action: z.enum(['trip-breaker', 'disable-cluster']), after: duration.default('5m') })
    .strict()
    .optional(),
};

export const checkSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...commonCheck,
      type: z.literal('http'),
      url: z.url(),
      method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
      expectStatus: z.array(z.number().int().min(100).max(599)).default([200]),
      bodyContains: z.string().optional(),
      /** JSON-path condition: `status` equals `ok` (dotted path into the JSON body). */
      json: z.object({ path: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }).strict().optional(),
      maxLatency: duration.optional(),
    })
    .strict(),
  z.object({ ...commonCheck, type: z.literal('tcp'), host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict(),
  z
    .object({
      ...commonCheck,
      type: z.literal('tls'),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).default(443),
      servername: z.string().optional(),
      warnDays: z.number().positive().default(14),
      criticalDays: z.number().positive().default(7),
      /** Accept self-signed certificates (the expiry is still checked). */
      insecure: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      ...commonCheck,
      type: z.literal('dns'),
      hostname: z.string().min(1),
      expectAddress: z.string().optional(),
    })
    .strict(),
  z
    .object({
      ...commonCheck,
      type: z.literal('command'),
      command: z.string().min(1),
      args: z.array(z.string()).default([]),
      expectExit: z.number().int().default(0),
    })
    .strict(),
]);

const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** A recurring maintenance window: a cron pattern, or weekdays + local start time, in a time zone. */
export const recurringWindowSchema = z
  .object({
    name: z.string().default('maintenance'),
    cron: z.string().optional(),
    days: z.array(z.enum(weekdays)).optional(),
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM').optional(),
    duration,
    // On the field, so it is reported even when another field of the window is wrong too.
    timezone: z
      .string()
      .superRefine((tz, ctx) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
        } catch {
          ctx.addIssue({ code: 'custom', message: `unknown time zone "${tz}"; use an IANA name such as UTC or Europe/Berlin` });
        }
      })
      .default('UTC'),
  })
  .strict()
  .refine((w) => (w.cron !== undefined) !== (w.start !== undefined), 'give either cron or start (with optional days)')
;

export const channels = z
  .object({ slack: z.string().optional(), discord: z.string().optional(), console: z.string().optional() })
  .strict();

export const alertsSchema = z
  .object({
    /** Failures of several checks of one cluster within this window share one notification. */
    groupWindow: duration.default('30s'),
    reminder: z.object({ every: duration.default('30m'), max: z.number().int().min(0).default(3) }).strict().default({ every: '30m', max: 3 }),
    /** Every matching route receives the alert; when none matches, `defaultChannels`. */
    routes: z
      .array(
        z
          .object({
            clusters: z.array(z.string()).optional(),
            severities: z.array(z.enum(['warning', 'critical'])).optional(),
            channels,
          })
          .strict(),
      )
      .default([]),
    defaultChannels: channels.default({ console: 'console' }),
    /** Where infrabot reports trouble with itself (notifications it gave up on); default: `defaultChannels`. */
    adminChannels: channels.optional(),
  })
  .strict();

export const incidentsSchema = z
  .object({
    channels: channels.default({ console: 'console' }),
    /** Status-update reminders to the commander, per severity. */
    updateEvery: z
      .object({ 1: duration.default('15m'), 2: duration.default('30m'), 3: duration.default('2h'), 4: duration.default('1d') })
      .strict()
      .default({ 1: '15m', 2: '30m', 3: '2h', 4: '1d' }),
  })
  .strict();

export const healthSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Probes in flight at once, across all checks. */
    concurrency: z.number().int().min(1).default(64),
    /** Raw results kept this long, then folded into hourly roll-ups kept for `rollupRetention`. */
    rawRetention: duration.default('48h'),
    rollupRetention: duration.default('90d'),
    /**
     * Resolved alerts and their events, delivered alert notifications, ended silences and alert buttons are
     * deleted this long after they ended (buttons on older messages then answer "expired").
     */
    historyRetention: durationAtLeast('1d').default('30d'),
    /** A notification no process could deliver for this long is given up (dead-lettered, logged as an error). */
    outboxMaxAge: durationAtLeast('1h').default('24h'),
    /**
     * With several replicas on one database: how long a replica keeps probing its checks without renewing its
     * lease. A replica that dies has its checks taken over within one check interval plus this.
     */
    leaseTime: durationAtLeast('2s').default('30s'),
  })
  .strict();

/** Booleans that may come from ${ENV} interpolation as text. */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

export const simulationSchema = z
  .object({
    enabled: flag.default(false),
    /** HTTP control endpoint: POST /break/<service>, POST /heal/<service>, POST /slow/<service>. */
    controlPort: z.number().int().min(0).max(65535).default(0),
    services: z
      .array(
        z
          .object({
            name: z.string().min(1),
            kind: z.enum(['http', 'tcp']).default('http'),
            port: z.number().int().min(1).max(65535),
            /** HTTP services embed the guard of this cluster: `killswitch on` makes them answer 503. */
            cluster: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type CheckConfig = z.infer<typeof checkSchema>;
export type RecurringWindow = z.infer<typeof recurringWindowSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;
export type IncidentsConfig = z.infer<typeof incidentsSchema>;
export type HealthConfig = z.infer<typeof healthSchema>;
export type SimulationConfig = z.infer<typeof simulationSchema>;
export type ChannelMap = z.infer<typeof channels>;
