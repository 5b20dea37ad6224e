import type { Logger } from 'pino';
import type { InfrabotConfig } from '../config/config-schema.js';
import type { RunbookConfig, ServiceConfig, StepConfig } from '../config/runbooks-config-schema.js';
import type { SqlDb } from '../store/db/sql-db.js';
import { UniqueViolation } from '../store/db/sql-db.js';
import {
  FINISHED, getRun, insertRun, listRuns, mutateRun, runByIdempotencyKey, staleRuns,
  type RunRecord, type RunStatus, type RunStep,
} from '../store/runbook-run-store.js';
import { notFound, usage, UserError } from '../user-error.js';
import { parseDuration } from '../util/duration.js';
import { shortId } from '../util/ids.js';
import type { Clock } from '../engine/engine.js';
import { checkParams, fillStep, missingParams, stepName } from '../engine/runbooks/fill-params.js';
import { redactor } from '../engine/runbooks/redact.js';
import { lockKey, type RunLock } from '../engine/runbooks/run-lock.js';
import { runStep, StepFailed, type CheckHealth, type StepRuntime } from '../engine/runbooks/run-step.js';

/** Where runs go to be executed: BullMQ (src/queue) or this process (the thin path without Redis). */
export interface RunQueue {
  readonly kind: 'bullmq' | 'in-process';
  /** Human description for `status`. */
  readonly description: string;
  enqueue(runId: string): Promise<void>;
  close(): Promise<void>;
}

export interface RunbookDeps {
  db: SqlDb;
  config: InfrabotConfig;
  clock: Clock;
  log: Logger;
  env: NodeJS.ProcessEnv;
  lock: RunLock;
  /** State of the named health checks (the health monitor's store). */
  health(checks: readonly string[]): Promise<CheckHealth[]>;
  /** Told whenever a run record changed (progress messages); must not throw. */
  changed(run: RunRecord): void;
  /** Told when a failed run started its onFailure runbook (the cluster's open incident records it). */
  followedUp?: (failed: RunRecord, started: RunRecord) => Promise<void>;
  /** How often an executing run beats and looks for a cancel or approval (default 1 s). */
  pollMs?: number;
}

export interface StartRequest {
  service: string;
  runbook: string;
  params: Record<string, string>;
  env?: string;
  user: { id: string; displayName: string };
  platform: string;
  channel?: string;
  traceId: string;
  idempotencyKey: string;
  forced?: boolean;
  parentId?: string;
}

/** A run record beats this often; one silent for STALE_MS lost its executor (a crash, SIGKILL). */
const HEARTBEAT_MS = 2_000;
export const STALE_MS = 60_000;
/** A queued run holds its lock this long before an executor starts refreshing it. */
const QUEUED_LOCK_MS = 15 * 60_000;
const RUNNING_LOCK_MS = 30_000;

export interface RunbookService {
  readonly config: InfrabotConfig;
  service(name: string): ServiceConfig;
  /** The text with the service's configured secrets replaced by ***. */
  redact(service: string, text: string): string;
  /** Validates and plans a run: the steps with parameters filled in (what --dry-run shows). */
  plan(req: Pick<StartRequest, 'service' | 'runbook' | 'params' | 'env'>): { env: string; params: Record<string, string>; steps: StepConfig[]; runbook: RunbookConfig };
  /** Starts a run (lock, record, queue); the same idempotency key returns the run it started first. */
  start(req: StartRequest): Promise<{ run: RunRecord; existing: boolean }>;
  /** Executes a queued run to its end (BullMQ processor or in-process queue). */
  execute(runId: string, hooks?: { changed?: (run: RunRecord) => void }): Promise<RunRecord | undefined>;
  cancel(id: string, by: string): Promise<RunRecord>;
  approve(id: string, by: string): Promise<RunRecord>;
  get(id: string): Promise<RunRecord | undefined>;
  list(q: { service?: string; status?: RunStatus; limit?: number }): Promise<RunRecord[]>;
  /** Version `rollback` goes back to: the newest successful deploy other than the current one. */
  previousVersion(service: string, env: string): Promise<string | undefined>;
  /** Marks runs whose executor died as interrupted (and tells the channel); returns them. */
  recoverInterrupted(): Promise<RunRecord[]>;
  /** The queue gave up on a run (every attempt failed before it could run): recorded as failed. */
  abandon(id: string, reason: string): Promise<void>;
  setQueue(queue: RunQueue): void;
  readonly queue: RunQueue | undefined;
}

export function createRunbookService(deps: RunbookDeps): RunbookService {
  const { db, config, clock, log } = deps;
  const pollMs = deps.pollMs ?? 1_000;
  let queue: RunQueue | undefined;
  const now = () => clock.now().toISOString();

  function service(name: string): ServiceConfig {
    const svc = config.services[name];
    if (!svc) {
      const known = Object.keys(config.services).sort();
      throw notFound(`No service named "${name}"${known.length ? `; known: ${known.join(', ')}` : '; declare services in the config (docs/runbooks.md)'}.`);
    }
    return svc;
  }

  function plan(req: Pick<StartRequest, 'service' | 'runbook' | 'params' | 'env'>) {
    const svc = service(req.service);
    const runbook = svc.runbooks[req.runbook];
    if (!runbook) {
      const known = Object.keys(svc.runbooks).sort();
      throw notFound(`${req.service} has no runbook "${req.runbook}"${known.length ? `; it has ${known.join(', ')}` : ''}.`);
    }
    const env = req.env ?? svc.envs[0]!;
    if (!svc.envs.includes(env)) throw usage(`${req.service} has no environment "${env}"; it has ${svc.envs.join(', ')}.`);
    const params = checkParams(req.service, svc, { ...req.params, env }, config.runbooks.versionPattern);
    const missing = missingParams(runbook.steps, params);
    if (missing.length) throw usage(`The ${req.runbook} runbook of ${req.service} needs ${missing.map((m) => `--param ${m}=…`).join(', ')}.`);
    return { env, params, steps: runbook.steps.map((s) => fillStep(s, params)), runbook };
  }

  async function start(req: StartRequest): Promise<{ run: RunRecord; existing: boolean }> {
    const earlier = await runByIdempotencyKey(db, req.idempotencyKey);
    if (earlier) return { run: earlier, existing: true };
    const { env, params, steps } = plan(req);
    const svc = service(req.service);
    const id = `run-${shortId(8)}`;
    const key = lockKey(req.service, env);
    const got = await deps.lock.acquire(key, id, QUEUED_LOCK_MS);
    if (!got.ok) {
      // The holder may be a run being started this very moment (its record not yet committed): wait for it.
      let holder = await getRun(db, got.holder);
      for (let i = 0; !holder && i < 40; i++) {
        await new Promise((r) => setTimeout(r, 25));
        holder = await getRun(db, got.holder);
      }
      if (holder?.idempotencyKey === req.idempotencyKey) return { run: holder, existing: true };
      if (!holder) throw new UserError('infra_conflict', `${req.service} (${env}) is busy: run ${got.holder} is being started. Try again in a moment.`);
      if (!FINISHED.includes(holder.status)) {
        throw new UserError('infra_conflict', `${req.service} (${env}) is busy: ${holder.runbook} run ${holder.id} by ${holder.requestedName} is ${holder.status.replace('_', ' ')}. Wait for it, or \`runs cancel ${holder.id}\`.`);
      }
      // The lock outlived its run (a crash between finish and release): take it over.
      await deps.lock.release(key, got.holder);
      if (!(await deps.lock.acquire(key, id, QUEUED_LOCK_MS)).ok) throw new UserError('infra_conflict', `${req.service} (${env}) is busy; try again.`);
    }
    const run: RunRecord = {
      id, service: req.service, env, runbook: req.runbook, cluster: svc.cluster, params,
      status: 'queued',
      steps: steps.map((s, i): RunStep => ({ name: stepName(s, i), type: s.type, status: 'pending' })),
      requestedBy: req.user.id, requestedName: req.user.displayName, platform: req.platform,
      ...(req.channel ? { channel: req.channel } : {}),
      traceId: req.traceId, idempotencyKey: req.idempotencyKey, forced: Boolean(req.forced),
      ...(req.parentId ? { parentId: req.parentId } : {}),
      createdAt: now(), output: '', version: 1,
    };
    try {
      await db.transaction((tx) => insertRun(tx, run));
    } catch (err) {
      await deps.lock.release(key, id);
      if (err instanceof UniqueViolation) {
        const first = await runByIdempotencyKey(db, req.idempotencyKey);
        if (first) return { run: first, existing: true };
      }
      throw err;
    }
    try {
      await queue!.enqueue(id);
    } catch (err) {
      log.error({ err, run: id }, 'could not queue the run');
      await finish(run, 'failed', `could not be queued: ${(err as Error).message}`);
      throw new UserError('infra_invalid_state', `The run could not be queued (${(err as Error).message}); nothing ran.`);
    }
    deps.changed(run);
    return { run, existing: false };
  }

  async function finish(run: RunRecord, status: RunStatus, error?: string, steps?: RunStep[], moreOutput = ''): Promise<RunRecord> {
    const done = await mutateRun(db, run.id, (r) =>
      FINISHED.includes(r.status) ? undefined : { status, finishedAt: now(), output: r.output + moreOutput, ...(error ? { error } : {}), ...(steps ? { steps } : { steps: r.steps.map((s) => (s.status === 'running' ? { ...s, status: status === 'cancelled' ? 'cancelled' : 'failed', finishedAt: now() } : s)) }) },
    );
    await deps.lock.release(lockKey(run.service, run.env), run.id).catch((err: unknown) => log.warn({ err, run: run.id }, 'could not release the runbook lock; it expires by itself'));
    return done ?? run;
  }

  async function execute(runId: string, hooks: { changed?: (run: RunRecord) => void } = {}): Promise<RunRecord | undefined> {
    const changed = (r: RunRecord) => {
      deps.changed(r);
      hooks.changed?.(r);
    };
    let run = await getRun(db, runId);
    if (!run || FINISHED.includes(run.status)) return run;
    if (run.status !== 'queued') {
      // A previous attempt started it and died (SIGKILL, crash): its steps may have half run. Report, never redo.
      const r = await finish(run, 'interrupted', 'the worker running it stopped mid-run; steps were not re-run');
      changed(r);
      return r;
    }
    if (run.cancelRequestedBy) {
      const r = await finish(run, 'cancelled');
      changed(r);
      return r;
    }
    const { steps, runbook } = plan({ service: run.service, runbook: run.runbook, params: run.params, env: run.env });
    const svc = service(run.service);
    const redact = redactor(svc.secrets, deps.env);
    const abort = new AbortController();
    const key = lockKey(run.service, run.env);
    let output = '';
    let dirty = false;
    const save = async (patch: (r: RunRecord) => Partial<RunRecord>, tell = true) => {
      const next = await mutateRun(db, runId, (r) => ({ ...patch(r), output: (r.output + output).slice(-256 * 1024), heartbeatAt: now() }));
      output = '';
      dirty = false;
      if (next) {
        run = next;
        if (tell) changed(next);
      }
      return next;
    };
    // The executor is the only writer of steps: it keeps them here and saves them with the next change, so a
    // step's end and the next one's start are one write (cancel, approval and message are other columns).
    const progress = run.steps.map((s) => ({ ...s }));
    const startedAt = now();
    if (progress[0]) Object.assign(progress[0], { status: 'running', startedAt });
    run = (await save(() => ({ status: 'running', startedAt, steps: progress.map((s) => ({ ...s })) })))!;
    // Heartbeat: proves this executor is alive, keeps the lock, and notices a cancel within one beat.
    let beats = 0;
    const beat = setInterval(() => {
      beats++;
      void (async () => {
        const r = await getRun(db, runId);
        if (r?.cancelRequestedBy && !abort.signal.aborted) abort.abort('cancelled');
        if (beats % Math.max(1, Math.round(HEARTBEAT_MS / pollMs)) === 0 || dirty) {
          await save(() => ({}), dirty);
          if (!(await deps.lock.refresh(key, runId, RUNNING_LOCK_MS))) log.warn({ run: runId }, 'runbook lock lost while running');
        }
      })().catch((err: unknown) => log.warn({ err, run: runId }, 'runbook heartbeat failed'));
    }, pollMs);
    beat.unref();
    const deadline = setTimeout(() => abort.abort('timeout'), parseDuration(runbook.timeout)!);
    deadline.unref();
    const sleep = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (abort.signal.aborted) return reject(new StepFailed(String(abort.signal.reason)));
        const t = setTimeout(() => {
          abort.signal.removeEventListener('abort', stop);
          resolve();
        }, ms);
        const stop = () => {
          clearTimeout(t);
          reject(new StepFailed(abort.signal.reason === 'timeout' ? `the run timed out after ${runbook.timeout}` : 'cancelled'));
        };
        abort.signal.addEventListener('abort', stop, { once: true });
      });
    const rt: StepRuntime = {
      signal: abort.signal,
      env: deps.env,
      output: (text) => {
        output += redact(text);
        dirty = true;
      },
      health: () => deps.health(svc.checks),
      sleep,
      approval: async (step) => {
        await save(() => ({ status: 'waiting_approval' }));
        const until = Date.now() + parseDuration(step.expires)!;
        for (;;) {
          const r = await getRun(db, runId);
          if (r?.approvedBy) {
            await save(() => ({ status: 'running' }), false);
            return r.approvedBy;
          }
          if (Date.now() >= until) throw new StepFailed(`no approval within ${step.expires}`);
          await sleep(pollMs);
        }
      },
    };
    let status: RunStatus = 'succeeded';
    let error: string | undefined;
    try {
      for (const [i, step] of steps.entries()) {
        if (i > 0) {
          Object.assign(progress[i]!, { status: 'running', startedAt: now() });
          await save(() => ({ steps: progress.map((s) => ({ ...s })) }));
        }
        try {
          const detail = await runStep(step, rt);
          Object.assign(progress[i]!, { status: 'succeeded', finishedAt: now(), detail: redact(detail) });
        } catch (err) {
          const reason = abort.signal.aborted ? (abort.signal.reason === 'timeout' ? `the run timed out after ${runbook.timeout}` : 'cancelled') : err instanceof StepFailed ? err.message : `unexpected error: ${(err as Error).message}`;
          if (!(err instanceof StepFailed)) log.error({ err, run: runId }, 'runbook step failed unexpectedly');
          status = abort.signal.reason === 'cancelled' ? 'cancelled' : 'failed';
          error = `${stepName(step, i)}: ${redact(reason)}`;
          Object.assign(progress[i]!, { status: status === 'cancelled' ? 'cancelled' : 'failed', finishedAt: now(), detail: redact(reason) });
          for (const later of progress.slice(i + 1)) later.status = 'skipped';
          break;
        }
      }
    } finally {
      clearInterval(beat);
      clearTimeout(deadline);
    }
    const last = await finish(run, status, error, progress, output);
    output = '';
    changed(last);
    if (status === 'failed' && runbook.onFailure) await followUp(last, runbook.onFailure);
    return last;
  }

  /** The runbook's onFailure (a canary's rollback) starts at once, as the system, in the same channel. */
  async function followUp(failed: RunRecord, name: string): Promise<void> {
    try {
      // The version that last deployed successfully is what was serving before this run.
      const previous = (await listRuns(db, { service: failed.service, limit: 100 })).find((r) => r.env === failed.env && r.runbook === 'deploy' && r.status === 'succeeded')?.params.version;
      const { env: _env, ...kept } = failed.params;
      const params = { ...kept, ...(previous ? { version: previous } : {}) };
      const { run } = await start({
        service: failed.service, runbook: name, params, env: failed.env,
        user: { id: 'system', displayName: `automatic ${name} after ${failed.id}` },
        platform: failed.platform, ...(failed.channel ? { channel: failed.channel } : {}),
        traceId: failed.traceId, idempotencyKey: `on-failure:${failed.id}`, forced: true, parentId: failed.id,
      });
      await deps.followedUp?.(failed, run);
    } catch (err) {
      log.error({ err, run: failed.id }, `automatic ${name} could not start`);
    }
  }

  async function cancel(id: string, by: string): Promise<RunRecord> {
    const run = await getRun(db, id);
    if (!run) throw notFound(`No run ${id}; see \`runs\`.`);
    if (FINISHED.includes(run.status)) throw new UserError('infra_invalid_state', `Run ${id} already ${run.status}; nothing to cancel.`);
    const next = await mutateRun(db, id, (r) => (FINISHED.includes(r.status) ? undefined : { cancelRequestedBy: by }));
    // Not picked up yet: cancelled here. Running: its executor stops it within a heartbeat.
    if (next?.status === 'queued') {
      const done = await finish(next, 'cancelled');
      deps.changed(done);
      return done;
    }
    return next!;
  }

  async function approve(id: string, by: string): Promise<RunRecord> {
    const run = await getRun(db, id);
    if (!run) throw notFound(`No run ${id}; see \`runs\`.`);
    if (run.status !== 'waiting_approval') throw new UserError('infra_invalid_state', `Run ${id} is ${run.status.replace('_', ' ')}, not waiting for an approval.`);
    if (run.requestedBy === by) throw new UserError('infra_denied', `You started run ${id}; a second person must approve it.`);
    return (await mutateRun(db, id, (r) => (r.approvedBy ? undefined : { approvedBy: by })))!;
  }

  async function previousVersion(svcName: string, env: string): Promise<string | undefined> {
    const attempts = (await listRuns(db, { service: svcName, limit: 100 })).filter((r) => r.env === env && r.runbook === 'deploy' && FINISHED.includes(r.status));
    const deploys = attempts.filter((r) => r.status === 'succeeded');
    const current = deploys[0]?.params.version;
    const latestAttempt = attempts[0];
    // After a failed deploy the last success is what to go back to; after a good one, the one before it.
    if (latestAttempt && latestAttempt.status !== 'succeeded') return current;
    return deploys.find((r) => r.params.version !== current)?.params.version;
  }

  async function recoverInterrupted(): Promise<RunRecord[]> {
    const stale = await staleRuns(db, new Date(clock.now().getTime() - STALE_MS).toISOString());
    const out: RunRecord[] = [];
    for (const r of stale) {
      const done = await finish(r, 'interrupted', 'its executor stopped (crash or restart) mid-run; steps were not re-run');
      log.warn({ run: r.id, service: r.service }, 'run reported as interrupted');
      deps.changed(done);
      out.push(done);
    }
    return out;
  }

  async function abandon(id: string, reason: string): Promise<void> {
    const run = await getRun(db, id);
    if (!run || FINISHED.includes(run.status)) return;
    deps.changed(await finish(run, 'failed', `the job queue gave up: ${reason}`));
  }

  return {
    config,
    redact: (name, text) => redactor(service(name).secrets, deps.env)(text),
    abandon,
    service,
    plan,
    start,
    execute,
    cancel,
    approve,
    get: (id) => getRun(db, id),
    list: (q) => listRuns(db, q),
    previousVersion,
    recoverInterrupted,
    setQueue: (q) => {
      queue = q;
    },
    get queue() {
      return queue;
    },
  };
}
