import { sql } from './db/sql.js';
import type { SqlExecutor } from './db/sql-db.js';

/** Run records of runbooks (migration 18). Functions over an executor, so a write can join a unit of work. */

export type RunStatus = 'queued' | 'running' | 'waiting_approval' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export const FINISHED: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

export interface RunStep {
  name: string;
  type: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  startedAt?: string;
  finishedAt?: string;
  detail?: string;
}

/** Where the run's progress message landed, so it is edited in place. */
export interface RunMessage {
  platform: string;
  channel: string;
  messageId: string;
  threadId?: string;
}

export interface RunRecord {
  id: string;
  service: string;
  env: string;
  runbook: string;
  cluster: string;
  params: Record<string, string>;
  status: RunStatus;
  steps: RunStep[];
  requestedBy: string;
  requestedName: string;
  platform: string;
  channel?: string;
  traceId: string;
  idempotencyKey: string;
  forced: boolean;
  parentId?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  heartbeatAt?: string;
  error?: string;
  /** Redacted output of every step, newest last (capped; see MAX_OUTPUT). */
  output: string;
  cancelRequestedBy?: string;
  approvedBy?: string;
  message?: RunMessage;
  version: number;
}

/** Output kept per run: the tail, so a chatty build never fills the database. */
export const MAX_OUTPUT = 256 * 1024;

interface Row {
  id: string;
  service: string;
  env: string;
  runbook: string;
  cluster: string;
  params: string;
  status: RunStatus;
  steps: string;
  requested_by: string;
  requested_name: string;
  platform: string;
  channel: string | null;
  trace_id: string;
  idempotency_key: string;
  forced: number;
  parent_id: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  error: string | null;
  output: string;
  cancel_requested_by: string | null;
  approved_by: string | null;
  message: string | null;
  version: number;
}

function fromRow(r: Row): RunRecord {
  const opt = <K extends string, V>(k: K, v: V | null) => (v === null ? {} : ({ [k]: v } as Record<K, V>));
  return {
    id: r.id,
    service: r.service,
    env: r.env,
    runbook: r.runbook,
    cluster: r.cluster,
    params: JSON.parse(r.params) as Record<string, string>,
    status: r.status,
    steps: JSON.parse(r.steps) as RunStep[],
    requestedBy: r.requested_by,
    requestedName: r.requested_name,
    platform: r.platform,
    ...opt('channel', r.channel),
    traceId: r.trace_id,
    idempotencyKey: r.idempotency_key,
    forced: Number(r.forced) === 1,
    ...opt('parentId', r.parent_id),
    createdAt: r.created_at,
    ...opt('startedAt', r.started_at),
    ...opt('finishedAt', r.finished_at),
    ...opt('heartbeatAt', r.heartbeat_at),
    ...opt('error', r.error),
    output: r.output,
    ...opt('cancelRequestedBy', r.cancel_requested_by),
    ...opt('approvedBy', r.approved_by),
    ...(r.message ? { message: JSON.parse(r.message) as RunMessage } : {}),
    version: Number(r.version),
  };
}

/** Inserts a new run; throws UniqueViolation when its idempotency key was used before. */
export async function insertRun(tx: SqlExecutor, r: RunRecord): Promise<void> {
  await tx.run(sql`INSERT INTO runbook_runs (id, service, env, runbook, cluster, params, status, steps, requested_by, requested_name, platform, channel,
    trace_id, idempotency_key, forced, parent_id, created_at, output, version)
    VALUES (${r.id}, ${r.service}, ${r.env}, ${r.runbook}, ${r.cluster}, ${JSON.stringify(r.params)}, ${r.status}, ${JSON.stringify(r.steps)},
    ${r.requestedBy}, ${r.requestedName}, ${r.platform}, ${r.channel ?? null}, ${r.traceId}, ${r.idempotencyKey}, ${r.forced ? 1 : 0},
    ${r.parentId ?? null}, ${r.createdAt}, ${r.output}, ${r.version})`);
}

export async function getRun(db: SqlExecutor, id: string): Promise<RunRecord | undefined> {
  const row = await db.one<Row>(sql`SELECT * FROM runbook_runs WHERE id = ${id}`);
  return row && fromRow(row);
}

export async function runByIdempotencyKey(db: SqlExecutor, key: string): Promise<RunRecord | undefined> {
  const row = await db.one<Row>(sql`SELECT * FROM runbook_runs WHERE idempotency_key = ${key}`);
  return row && fromRow(row);
}

export async function listRuns(db: SqlExecutor, q: { service?: string; status?: RunStatus; limit?: number }): Promise<RunRecord[]> {
  const where = [sql`1 = 1`];
  if (q.service) where.push(sql`service = ${q.service}`);
  if (q.status) where.push(sql`status = ${q.status}`);
  const rows = await db.all<Row>(sql`SELECT * FROM runbook_runs WHERE ${sql.join(where, ' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${q.limit ?? 20}`);
  return rows.map(fromRow);
}

/** Runs left running or waiting whose executor stopped beating before `staleBefore`. */
export async function staleRuns(db: SqlExecutor, staleBefore: string): Promise<RunRecord[]> {
  const rows = await db.all<Row>(
    sql`SELECT * FROM runbook_runs WHERE status IN ('running', 'waiting_approval') AND (heartbeat_at IS NULL OR heartbeat_at < ${staleBefore})`,
  );
  return rows.map(fromRow);
}

/** The parameters of the last successful deploy before `before` (what `rollback` goes back to). */
export async function lastSucceeded(db: SqlExecutor, service: string, env: string, runbook: string, exceptVersion?: string): Promise<RunRecord[]> {
  const rows = await db.all<Row>(
    sql`SELECT * FROM runbook_runs WHERE service = ${service} AND env = ${env} AND runbook = ${runbook} AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 20`,
  );
  return rows.map(fromRow).filter((r) => r.params.version !== exceptVersion);
}

export type RunPatch = Partial<Pick<RunRecord, 'status' | 'steps' | 'startedAt' | 'finishedAt' | 'heartbeatAt' | 'error' | 'output' | 'cancelRequestedBy' | 'approvedBy' | 'message'>>;

/**
 * Compare-and-set: applies `patch` only if the row is still at `version`; returns the new record, or
 * undefined when another writer changed it first (the caller re-reads and decides again).
 */
export async function updateRun(tx: SqlExecutor, run: RunRecord, patch: RunPatch): Promise<RunRecord | undefined> {
  const next: RunRecord = { ...run, ...patch, version: run.version + 1 };
  const output = next.output.length > MAX_OUTPUT ? next.output.slice(-MAX_OUTPUT) : next.output;
  const { changes } = await tx.run(sql`UPDATE runbook_runs SET status = ${next.status}, steps = ${JSON.stringify(next.steps)},
    started_at = ${next.startedAt ?? null}, finished_at = ${next.finishedAt ?? null}, heartbeat_at = ${next.heartbeatAt ?? null},
    error = ${next.error ?? null}, output = ${output}, cancel_requested_by = ${next.cancelRequestedBy ?? null},
    approved_by = ${next.approvedBy ?? null}, message = ${next.message ? JSON.stringify(next.message) : null}, version = ${next.version}
    WHERE id = ${run.id} AND version = ${run.version}`);
  return changes === 1 ? { ...next, output } : undefined;
}

/** Re-reads and applies `change` until it lands (or `change` returns undefined: nothing to do). */
export async function mutateRun(db: SqlExecutor, id: string, change: (r: RunRecord) => RunPatch | undefined): Promise<RunRecord | undefined> {
  for (let i = 0; i < 20; i++) {
    const run = await getRun(db, id);
    if (!run) return undefined;
    const patch = change(run);
    if (!patch) return run;
    const next = await updateRun(db, run, patch);
    if (next) return next;
  }
  throw new Error(`run ${id} kept changing under this update`);
}
