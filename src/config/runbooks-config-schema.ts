import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/** Services, their runbooks, log and metric sources (docs/runbooks.md). */

const duration = z.string().refine((v) => parseDuration(v) !== undefined, 'expected a duration such as 30s, 5m, 2h or 1d');
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, dashes and underscores');
const httpUrl = z.string().regex(/^https?:\/\//, 'expected an http:// or https:// URL');

/** `result < 0.05`: the analysis value compared with a number (Argo Rollouts' successCondition, narrowed). */
export const CONDITION = /^\s*result\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;
const condition = z.string().regex(CONDITION, 'expected a condition such as "result < 0.05" (result <, <=, >, >=, ==, != a number)');

const stepBase = { name: z.string().min(1).max(100).optional() };

const execStep = z
  .object({
    ...stepBase,
    type: z.literal('exec'),
    /** argv, never a shell string: `{{param}}` is replaced inside one element and never splits it. */
    argv: z.array(z.string().min(1)).min(1),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).default({}),
    timeout: duration.default('10m'),
  })
  .strict();

const httpStep = z
  .object({
    ...stepBase,
    type: z.literal('http'),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    url: httpUrl,
    headers: z.record(z.string(), z.string()).default({}),
    /** JSON body; string values may hold `{{param}}`. */
    body: z.unknown().optional(),
    expectStatus: z.array(z.number().int().min(100).max(599)).default([200, 201, 202, 204]),
    /** Signs the body: `header: sha256=<hex HMAC of the body>` with the secret from the environment variable. */
    hmac: z.object({ header: z.string().min(1), secretEnv: z.string().min(1) }).strict().optional(),
    timeout: duration.default('30s'),
    /**
     * GitHub Actions: the dispatch answers with `workflow_run_id` (`return_run_details: true` in the body);
     * the step then follows `GET {api}/repos/{repo}/actions/runs/{id}` until it completes.
     */
    followGithubRun: z.object({ interval: duration.default('10s'), timeout: duration.default('30m') }).strict().optional(),
  })
  .strict();

const waitHealthyStep = z
  .object({
    ...stepBase,
    type: z.literal('wait_healthy'),
    /** How long the checks must stay UP. */
    for: duration.default('30s'),
    /** Give up (fail) after this long. */
    timeout: duration.default('5m'),
    /** Optional latency threshold every check's last result must hold. */
    maxLatencyMs: z.number().positive().optional(),
  })
  .strict();

const approveStep = z
  .object({
    ...stepBase,
    type: z.literal('approve'),
    role: z.enum(['operator', 'admin']).default('operator'),
    expires: duration.default('30m'),
  })
  .strict();

const analysisStep = z
  .object({
    ...stepBase,
    type: z.literal('analysis'),
    /** An instant PromQL query (Prometheus HTTP API `query`); the first sample's value is `result`. */
    prometheus: z.object({ url: httpUrl, query: z.string().min(1) }).strict(),
    successCondition: condition,
    failureCondition: condition.optional(),
    interval: duration.default('30s'),
    count: z.number().int().positive().max(1000).default(5),
    failureLimit: z.number().int().min(0).default(0),
  })
  .strict();

export const stepSchema = z.discriminatedUnion('type', [execStep, httpStep, waitHealthyStep, approveStep, analysisStep]);
export type StepConfig = z.infer<typeof stepSchema>;

export const runbookSchema = z
  .object({
    description: z.string().default(''),
    steps: z.array(stepSchema).min(1),
    /** Runs when this runbook fails (canary analysis failing, a step failing): e.g. `rollback`. */
    onFailure: name.optional(),
    /** Longest the whole run may take. */
    timeout: duration.default('1h'),
  })
  .strict();
export type RunbookConfig = z.infer<typeof runbookSchema>;

const paramSchema = z
  .object({
    pattern: z.string().refine((p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    }, 'expected a regular expression'),
    description: z.string().default(''),
    default: z.string().optional(),
  })
  .strict();

const logSourceSchema = z.union([
  z.object({ file: z.string().min(1) }).strict(),
  z.object({ command: z.array(z.string().min(1)).min(1) }).strict(),
  z.object({ loki: z.object({ url: httpUrl, query: z.string().min(1) }).strict() }).strict(),
]);

const serviceSchema = z
  .object({
    cluster: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    description: z.string().default(''),
    envs: z.array(name).min(1).default(['production']),
    /** Health checks (by name) `wait_healthy` waits for. */
    checks: z.array(z.string()).default([]),
    /** Environment variables whose values never appear in output, logs or audit. */
    secrets: z.array(z.string()).default([]),
    /** Parameters runbooks take, each matched whole against its pattern. `version` and `env` are built in. */
    params: z.record(name, paramSchema).default({}),
    runbooks: z.record(name, runbookSchema).default({}),
    logs: logSourceSchema.optional(),
    /** Prometheus `query_range` expressions per metric name (cpu, memory, latency, errors or any). */
    metrics: z
      .object({
        prometheus: httpUrl,
        queries: z.record(name, z.union([z.string().min(1), z.object({ query: z.string().min(1), unit: z.string().max(16).default('') }).strict()])),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ServiceConfig = z.infer<typeof serviceSchema>;

export const servicesSchema = z.record(name, serviceSchema).default({});

/** Jobs: how runbook runs are queued (BullMQ on the configured Redis, else in this process). */
export const runbooksSettingsSchema = z
  .object({
    /** `infrabot start` also runs workers; false leaves runs to `infrabot worker` processes. */
    inProcessWorker: z.boolean().default(true),
    concurrency: z.number().int().positive().max(64).default(4),
    /**
     * A BullMQ worker silent this long (killed, frozen) has its job taken back; the next worker reports the run
     * interrupted rather than re-running half-done steps.
     */
    stalledAfter: duration.default('30s'),
    /** How often a running run beats and looks for a cancel or an approval. */
    poll: duration.default('1s'),
    /** Default pattern of `version`. */
    versionPattern: z.string().default('^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$'),
  })
  .strict();
