import { hash } from 'node:crypto';
import type { Outcome } from '../framework/reply.js';

/** One audited invocation: who ran what, from where, and how it ended. */
export interface AuditDraft {
  at: string;
  platform: string;
  userId: string;
  userName: string;
  channel?: string;
  rawText: string;
  command?: string;
  args?: Record<string, unknown>;
  cluster?: string;
  outcome: Outcome;
  error?: string;
  traceId: string;
  invocationId: string;
  /**
   * The operating-system account that really ran a console/CLI command under `--as` (userId is then the
   * impersonated user). Hashed like every field, so it cannot be edited away.
   */
  runBy?: string;
  /** SHA-256 of the control events this record wrote (set by the store), so events are covered by the chain. */
  eventsHash?: string;
}

export interface AuditRecord extends AuditDraft {
  id: number;
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  userId?: string;
  cluster?: string;
  /** Command name or its first word(s): "cluster" matches "cluster disable". */
  command?: string;
  since?: string;
  until?: string;
  limit: number;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The hash chain: each record's hash covers its id, every stored field and the previous hash, so changing,
 * deleting or reordering any record breaks every hash after it. Fields are hashed in a fixed order as stored
 * (args as its JSON text), which makes the input canonical without re-serialising objects.
 */
export function hashAuditRow(prevHash: string, row: AuditRow): string {
  return hashAuditFields(prevHash, [
    row.id, row.at, row.platform, row.user_id, row.user_name, row.channel, row.raw_text, row.command,
    row.args, row.cluster, row.outcome, row.error, row.trace_id, row.invocation_id, row.events_hash, row.run_by,
  ]);
}

const LEGACY_COLUMNS = 'id, at, platform, user_id, user_name, channel, raw_text, command, args, cluster, outcome, error, trace_id, invocation_id';

/** The hashed columns in chain order; a store selecting them in this order can verify from raw rows. */
export const HASHED_COLUMNS = `${LEGACY_COLUMNS}, events_hash, run_by`;

/**
 * SQL rendering a record's canonical JSON. Records written before events_hash and run_by existed hashed
 * the first 14 columns only; a record with neither still does, so old chains keep verifying.
 */
export const CANONICAL_SQL = `CASE WHEN events_hash IS NULL AND run_by IS NULL THEN json_array(${LEGACY_COLUMNS}) ELSE json_array(${HASHED_COLUMNS}) END`;

/** The chain hash of a record given its hashed fields in HASHED_COLUMNS order. */
export const hashAuditFields = (prevHash: string, fields: readonly unknown[]): string =>
  hashCanonical(prevHash, JSON.stringify(fields[14] === null && fields[15] === null ? fields.slice(0, 14) : fields));

/** What an audit record commits to of the control events it wrote: [seq, at, actor, scope, type, data JSON] each. */
export const hashEvents = (rows: readonly (readonly [number, string, string, string, string, string])[]): string => hash('sha256', JSON.stringify(rows));

/** The chain hash given the fields' canonical JSON array text. */
export const hashCanonical = (prevHash: string, canonical: string): string => hash('sha256', `${prevHash}\n${canonical}`);

/** The audit table's row shape (snake_case, nulls), shared by every store implementation. */
export interface AuditRow {
  id: number;
  at: string;
  platform: string;
  user_id: string;
  user_name: string;
  channel: string | null;
  raw_text: string;
  command: string | null;
  args: string | null;
  cluster: string | null;
  outcome: string;
  error: string | null;
  trace_id: string;
  invocation_id: string;
  events_hash: string | null;
  run_by: string | null;
  prev_hash: string;
  hash: string;
}

/**
 * A lone UTF-16 surrogate (possible in JSON from a chat platform) is stored by SQLite as U+FFFD, so the
 * stored text would no longer match its hash; we store and hash the replacement character from the start.
 * PostgreSQL text cannot hold NUL at all, so NUL is replaced the same way on both backends.
 */
const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/g, '\uFFFD');
const wellFormedOrNull = (s: string | undefined) => (s === undefined ? null : wellFormed(s));

export function toAuditRow(id: number, d: AuditDraft, prevHash: string): AuditRow {
  const row: AuditRow = {
    id,
    at: d.at,
    platform: wellFormed(d.platform),
    user_id: wellFormed(d.userId),
    user_name: wellFormed(d.userName),
    channel: wellFormedOrNull(d.channel),
    raw_text: wellFormed(d.rawText),
    command: wellFormedOrNull(d.command),
    args: d.args ? JSON.stringify(d.args) : null,
    cluster: wellFormedOrNull(d.cluster),
    outcome: d.outcome,
    error: wellFormedOrNull(d.error),
    trace_id: d.traceId,
    invocation_id: wellFormed(d.invocationId),
    events_hash: d.eventsHash ?? null,
    run_by: wellFormedOrNull(d.runBy),
    prev_hash: prevHash,
    hash: '',
  };
  row.hash = hashAuditRow(prevHash, row);
  return row;
}

export function fromAuditRow(r: AuditRow): AuditRecord {
  return {
    id: r.id,
    at: r.at,
    platform: r.platform,
    userId: r.user_id,
    userName: r.user_name,
    ...(r.channel !== null ? { channel: r.channel } : {}),
    rawText: r.raw_text,
    ...(r.command !== null ? { command: r.command } : {}),
    ...(r.args !== null ? { args: JSON.parse(r.args) as Record<string, unknown> } : {}),
    ...(r.cluster !== null ? { cluster: r.cluster } : {}),
    outcome: r.outcome as AuditRecord['outcome'],
    ...(r.error !== null ? { error: r.error } : {}),
    traceId: r.trace_id,
    invocationId: r.invocation_id,
    ...(r.run_by !== null ? { runBy: r.run_by } : {}),
    ...(r.events_hash !== null ? { eventsHash: r.events_hash } : {}),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
