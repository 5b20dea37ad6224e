import type { ControlEvent, StoredEvent } from '../engine/control-events.js';
import type { ControlState } from '../engine/control-state.js';
import type { AuditDraft, AuditQuery, AuditRecord } from '../audit/audit-record.js';
import type { Checkpoint, StoredCheckpoint } from '../audit/checkpoint.js';
import type { KeyRotation } from '../audit/signing-key.js';
import type { Reply } from '../engine/message.js';
import type { SqlDb, SqlExecutor } from './db/sql-db.js';

export interface NewEvent {
  actor: string;
  scope: string;
  event: ControlEvent;
}

export interface CommitInput {
  /** The state sequence the events were decided on; a different head means another writer won. */
  expectedSeq: number;
  /**
   * When given, the commit goes through only if the stored state is still exactly this version (events or
   * not): for commands decided on a state whose own commit may still be queued.
   */
  expectedVersion?: string;
  /** Version token to store with the new state (events only); the caller may chain decisions on it. */
  version?: string;
  events: NewEvent[];
  /** State after the events, stored as the current projection. */
  state?: ControlState;
  audit: AuditDraft;
  /**
   * The invocation's platform-qualified delivery key and its reply. The key is unique: a second commit for
   * the same key writes nothing and returns the first one's reply, so a redelivery never executes twice.
   * Omitted for changes no chat invocation caused (the system's own remediation, for example).
   */
  invocationKey?: string;
  reply?: Reply;
  /**
   * Writes of other stores (incidents, silences, alert acks) that belong to this command: run on the
   * commit's unit of work `tx` after the duplicate and conflict checks, so they happen exactly once and
   * never without their audit record. Never await a network call in one (on SQLite the unit of work holds
   * the write lock for everyone).
   */
  effects?: ReadonlyArray<UnitOfWorkEffect>;
  /**
   * Decides the command again when the stored state is no longer the one it was decided on (another replica
   * committed first). Called on the commit's unit of work while the chain head is locked, so no writer can
   * move the state between this decision and its write; returns what to commit instead (decided on `state`,
   * the stored state or undefined before the first change). Without it such a commit returns `conflict`.
   */
  redecide?: (state: ControlState | undefined) => Promise<CommitInput>;
}

/** A write that joins a commit's unit of work. */
export type UnitOfWorkEffect = (tx: SqlExecutor) => Promise<void>;

export type CommitResult =
  /** `state`: the control state stored, when events were written (what a command decided again left). */
  | { ok: true; audit: AuditRecord; events: StoredEvent[]; state?: ControlState }
  | { ok: false; reason: 'conflict' }
  | { ok: false; reason: 'duplicate'; reply: Reply };

/** What a button does when clicked; stored so a click is re-authorized as the clicker on any replica. */
export interface StoredAction {
  id: string;
  /** 'run' runs `command`; 'cancel' closes its group (a confirmation's Confirm and Cancel share one). */
  kind?: 'run' | 'cancel';
  /** Buttons of one message; using one single-use button uses them all. Defaults to the id. */
  group?: string;
  command: string;
  confirmed: boolean;
  /** Confirmations work once: a later click on Confirm or Cancel is refused. */
  singleUse?: boolean;
  createdBy: string;
  createdAt: string;
  /** After this the button is refused as expired; undefined for buttons that live as long as their alert. */
  expiresAt?: string;
  usedAt?: string;
}

export type VerifyResult =
  | { ok: true; count: number }
  | { ok: false; count: number; firstBad: number; problem: string };

/** A walk over (part of) the audit chain, checking every record's hash, link and events hash. */
export interface AuditWalk {
  /** Records that verified before the first problem (all of them when there is none). */
  count: number;
  /** The last record walked and its stored hash (past a problem only with keepGoing). */
  lastId: number;
  lastHash: string;
  problem?: { firstBad: number; problem: string };
  head: { lastId: number; lastHash: string } | undefined;
}

/**
 * Everything infrabot persists, behind an async interface with portable SQL (SQLite embedded, PostgreSQL
 * with DATABASE_URL). A commit writes events, the state projection, the audit record and the invocation's
 * reply in one transaction.
 */
export interface Store {
  /** The unit of work the store writes on; other stores join a commit through its effects' `tx`. */
  readonly db: SqlDb;
  readState(): Promise<ControlState | undefined>;
  commit(input: CommitInput): Promise<CommitResult>;
  events(query: { until?: string; after?: string; scope?: string }): Promise<StoredEvent[]>;

  /** The reply already given for an invocation key, if it was handled before. */
  findInvocationReply(key: string): Promise<Reply | undefined>;
  /**
   * Forgets invocation keys received before `before` (platforms redeliver within minutes, so a day is ample)
   * and buttons that expired before it. Returns how many rows went.
   */
  prune(before: string): Promise<number>;

  saveAction(action: StoredAction): Promise<void>;
  getAction(id: string): Promise<StoredAction | undefined>;
  /** Marks every button of a group used; false when one of them was used already (someone clicked first). */
  useActionGroup(group: string, at: string): Promise<boolean>;
  /** Undoes useActionGroup(group, at) when the claimed action did not go through. */
  releaseActionGroup(group: string, at: string): Promise<void>;

  searchAudit(query: AuditQuery): Promise<AuditRecord[]>;
  verifyAudit(): Promise<VerifyResult>;
  /**
   * Walks the chain after `afterId` (whose hash is `prevHash`) up to `uptoId`, calling onRecord for every
   * record. A full walk (no range) also checks each record's events hash against the events table. It stops
   * at the first problem unless keepGoing (then later records are still passed on, with their stored hashes).
   */
  walkAudit(opts?: { afterId?: number; prevHash?: string; uptoId?: number; keepGoing?: boolean; onRecord?: (id: number, hash: string) => void }): Promise<AuditWalk>;
  /** A record's hashed fields in HASHED_COLUMNS order and its previous hash, exactly as stored (for proofs). */
  auditFields(id: number): Promise<{ fields: unknown[]; prevHash: string } | undefined>;
  /** The chain hashes of records 1..uptoId in order: the Merkle tree's leaves. */
  leafHashes(uptoId: number): Promise<string[]>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  checkpoints(): Promise<StoredCheckpoint[]>;
  /**
   * Stores a checkpoint with the tree's compact range and the chain hashes of the records it added (so a
   * later rewrite can be traced to the exact record); false when another writer took its number first.
   */
  appendCheckpoint(cp: Checkpoint, frontier: readonly string[], leaves?: readonly string[]): Promise<boolean>;
  /** The chain hashes a checkpoint recorded for its records, as stored (unverified); undefined if none. */
  checkpointLeaves(seq: number): Promise<string[] | undefined>;
  /** The stored chain hashes of records afterId+1..uptoId. */
  auditHashes(afterId: number, uptoId: number): Promise<string[]>;
  keyRotations(): Promise<KeyRotation[]>;
  saveKeyRotation(rotation: KeyRotation): Promise<void>;
  /** The stored state projection and every control event, read at one moment (for replay checks). */
  controlSnapshot(): Promise<{ state: ControlState | undefined; events: StoredEvent[] }>;
  /**
   * Hands every record to `write`, oldest first, awaiting it when it returns a promise (backpressure); stops
   * when it returns (or resolves to) false. Returns how many records were handed over and accepted.
   */
  exportAudit(write: (record: AuditRecord) => boolean | void | Promise<boolean | void>): Promise<number>;

  close(): Promise<void>;
}
