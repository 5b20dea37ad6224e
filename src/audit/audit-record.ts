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
    row.args, row.cluster, row.outcome, row.error, row.trace_id, row.invocation_id,
  ]);
}

/** The hashed columns in chain order; a store selecting them in this order can verify from raw rows. */
export const HASHED_COLUMNS =
  'id, at, platform, user_id, user_name, channel, raw_text, command, args, cluster, outcome, error, trace_id, invocation_id';

export const hashAuditFields = (prevHash: string, fields: readonly unknown[]): string => hashCanonical(prevHash, JSON.stringify(fields));

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
  prev_hash: string;
  hash: string;
}

/**
 * A lone UTF-16 surrogate (possible in JSON from a chat platform) is stored by SQLite as U+FFFD, so the
 * stored text would no longer match its hash; we store and hash the replacement character from the start.
 */
const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
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
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
