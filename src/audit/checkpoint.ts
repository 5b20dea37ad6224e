import { hash } from 'node:crypto';
import { GENESIS_HASH } from './audit-record.js';
import { verifySignature, type SigningKey } from './signing-key.js';

/**
 * A signed checkpoint (a CloudTrail digest / CT signed tree head): the audit log up to `lastId` had chain
 * hash `chainHash` and Merkle root `root`; `prev` links it to the checkpoint before, so checkpoints form a
 * chain of their own that a witness can follow.
 */
export interface CheckpointBody {
  v: 1;
  /** Checkpoint number, 1, 2, 3… */
  seq: number;
  lastId: number;
  chainHash: string;
  root: string;
  /** Records covered (ids are contiguous from 1, so equal to lastId; kept so a reader needs no such rule). */
  count: number;
  at: string;
  /** Hash of the previous checkpoint (64 zeros for the first). */
  prev: string;
  keyId: string;
}

export interface Checkpoint extends CheckpointBody {
  /** The exact signed text (canonical JSON of the body). */
  statement: string;
  /** SHA-256 of the statement: the short value posted to chat. */
  hash: string;
  signature: string;
}

/** As stored in the database, with the tree's compact range so the next checkpoint extends it cheaply. */
export interface StoredCheckpoint extends Checkpoint {
  frontier: string[];
}

/** Canonical text: fixed key order, no whitespace. */
const statementOf = (b: CheckpointBody) =>
  JSON.stringify({ v: b.v, seq: b.seq, lastId: b.lastId, chainHash: b.chainHash, root: b.root, count: b.count, at: b.at, prev: b.prev, keyId: b.keyId });

export const FIRST_PREV = GENESIS_HASH;

export function signCheckpoint(body: Omit<CheckpointBody, 'v' | 'keyId'>, key: SigningKey): Checkpoint {
  const full: CheckpointBody = { v: 1, ...body, keyId: key.keyId };
  const statement = statementOf(full);
  return { ...full, statement, hash: hash('sha256', statement), signature: key.sign(statement) };
}

/**
 * Why a checkpoint (from the database, a witness file or a proof) cannot be trusted, or undefined: its
 * statement must be the canonical form of its fields, its hash must match, and a trusted key must have
 * signed it.
 */
export function checkpointProblem(cp: Checkpoint, trusted: ReadonlyMap<string, string>): string | undefined {
  let parsed: CheckpointBody;
  try {
    parsed = JSON.parse(cp.statement) as CheckpointBody;
  } catch {
    return 'its statement is not JSON';
  }
  if (statementOf(parsed) !== cp.statement) return 'its statement is not in canonical form';
  for (const k of ['seq', 'lastId', 'chainHash', 'root', 'count', 'at', 'prev', 'keyId'] as const) {
    if (parsed[k] !== cp[k]) return `its ${k} differs from the signed statement`;
  }
  if (hash('sha256', cp.statement) !== cp.hash) return 'its hash does not match its statement';
  const publicKey = trusted.get(cp.keyId);
  if (!publicKey) return `it is signed by key ${cp.keyId}, which is not a trusted audit key`;
  if (!verifySignature(publicKey, cp.statement, cp.signature)) return `its signature is not valid for key ${cp.keyId}`;
  return undefined;
}

/** A checkpoint as read back from JSON (witness file, export, proof): only the signed parts, re-derived. */
export function checkpointFromJson(value: unknown): Checkpoint | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.statement !== 'string' || typeof v.signature !== 'string') return undefined;
  try {
    const body = JSON.parse(v.statement) as CheckpointBody;
    if (typeof body.seq !== 'number' || typeof body.lastId !== 'number' || typeof body.keyId !== 'string') return undefined;
    return { ...body, statement: v.statement, hash: hash('sha256', v.statement), signature: v.signature };
  } catch {
    return undefined;
  }
}

/** The one line a chat witness gets: enough to compare with `audit verify` later. */
export const checkpointLine = (cp: Checkpoint) =>
  `Audit checkpoint #${cp.seq}: records 1–${cp.lastId.toLocaleString('en-US')}, hash ${cp.hash}, signed by key ${cp.keyId} at ${cp.at}`;
