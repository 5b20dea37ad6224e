import Database from 'better-sqlite3';
import { AsyncResource } from 'node:async_hooks';
import { CANONICAL_SQL, GENESIS_HASH, HASHED_COLUMNS, fromAuditRow, hashAuditFields, hashCanonical, hashEvents, toAuditRow, type AuditRow } from '../audit/audit-record.js';
import type { Checkpoint, StoredCheckpoint } from '../audit/checkpoint.js';
import type { KeyRotation } from '../audit/signing-key.js';
import type { ControlEvent, StoredEvent } from '../engine/control-events.js';
import type { ControlState } from '../engine/control-state.js';
import type { Reply } from '../framework/reply.js';
import { migrateSqlDb } from './db/migrate-sql-db.js';
import { sql, type SqlFragment } from './db/sql.js';
import type { SqlDb, SqlExecutor } from './db/sql-db.js';
import { executorOn } from './db/sqlite-db.js';
import type { AuditWalk, CommitInput, CommitResult, Store, VerifyResult } from './store.js';

export interface SqlStoreOptions {
  /** The unit of work (SQLite or PostgreSQL); SQLite's `.handle` enables the fast audit walk. */
  db: SqlDb & { readonly handle?: Database.Database };
  /** Apply pending migrations on open (the default); `infrabot migrate` does it explicitly. */
  migrate?: boolean;
  /** Close the SqlDb with the store (default true). */
  ownsDb?: boolean;
}

interface EventRow {
  seq: number;
  at: string;
  actor: string;
  scope: string;
  data: string;
}

interface ActionRow {
  id: string;
  kind: string;
  grp: string;
  command: string;
  confirmed: number;
  single_use: number;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  used_at: string | null;
}

interface CheckpointRow {
  seq: number;
  last_id: number;
  statement: string;
  hash: string;
  key_id: string;
  signature: string;
  frontier: string;
}

type Head = { last_id: number; last_hash: string };

const toStoredEvent = (r: EventRow): StoredEvent => ({ seq: r.seq, at: r.at, actor: r.actor, scope: r.scope, event: JSON.parse(r.data) as ControlEvent });

const toStoredCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  ...(JSON.parse(r.statement) as Omit<Checkpoint, 'statement' | 'hash' | 'signature'>),
  statement: r.statement,
  hash: r.hash,
  signature: r.signature,
  frontier: JSON.parse(r.frontier) as string[],
});

const headOf = (h: Head | undefined) => (h ? { lastId: h.last_id, lastHash: h.last_hash } : undefined);
const where = (conds: SqlFragment[]) => (conds.length ? sql`WHERE ${sql.join(conds, ' AND ')}` : sql.empty);

const EMPTY_EVENTS_HASH = hashEvents([]);
/** Any number, the same in every replica: serializes the very first audit append (before a head row exists). */
const AUDIT_HEAD_LOCK = 7_270_010;
const CHECKPOINT_COLUMNS = sql.raw('seq, last_id, statement, hash, key_id, signature, frontier');

/** Thrown inside a commit's unit of work to undo it when the state moved on under the command. */
class ConflictSignal extends Error {}

/**
 * The chain head, locked for this unit of work. Audit ids are chain positions (record n links to n-1), so
 * they are not from a sequence: they stay contiguous because every append holds this lock, which makes the
 * chain linear across replicas. On SQLite the unit of work already holds the database's write lock. On
 * PostgreSQL `FOR UPDATE` on the head row serializes appends; before the first append there is no row to
 * lock, so an advisory lock stands in for it.
 */
async function lockHead(tx: SqlExecutor): Promise<Head | undefined> {
  if (tx.dialect === 'sqlite') return tx.one<Head>(sql`SELECT last_id, last_hash FROM audit_head WHERE id = 1`);
  const head = await tx.one<Head>(sql`SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE`);
  if (head) return head;
  await tx.one(sql`SELECT pg_advisory_xact_lock(${AUDIT_HEAD_LOCK})`);
  return tx.one<Head>(sql`SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE`);
}

/** Whether the stored state is no longer the one `input` was decided on. */
async function stateMoved(tx: SqlExecutor, input: CommitInput): Promise<boolean> {
  if (input.events.length === 0 && input.expectedVersion === undefined) return false;
  const current = (await tx.one<{ seq: number; version: string }>(sql`SELECT seq, version FROM control_state WHERE id = 1`)) ?? { seq: 0, version: '' };
  return (input.events.length > 0 && current.seq !== input.expectedSeq) || (input.expectedVersion !== undefined && current.version !== input.expectedVersion);
}

/**
 * The pessimistic path after an optimistic conflict: the command is decided again on the state read here,
 * under the chain-head lock, so the new decision cannot conflict. Its reply replaces the one claimed with
 * the invocation key (a redelivery must get what this commit answers).
 */
async function redecideLocked(tx: SqlExecutor, input: CommitInput, redecide: NonNullable<CommitInput['redecide']>): Promise<CommitInput> {
  const row = await tx.one<{ doc: string }>(sql`SELECT doc FROM control_state WHERE id = 1`);
  const again = await redecide(row ? (JSON.parse(row.doc) as ControlState) : undefined);
  if (again.events.length > 0 && !again.state) throw new Error('a commit with events must carry the state they produce');
  if (again.invocationKey !== input.invocationKey) throw new Error('a command decided again must keep its invocation key');
  if (await stateMoved(tx, again)) throw new Error('a command decided again under the lock was not decided on the stored state');
  if (again.invocationKey) await tx.run(sql`UPDATE invocations SET reply = ${JSON.stringify(again.reply ?? null)} WHERE key = ${again.invocationKey}`);
  return again;
}

/**
 * Writes one command's outcome (invocation, effects, events, audit record, state) on `tx`. `locked` is the
 * chain head when the caller's transaction already holds its lock (a group commit's batch).
 */
async function commitIn(tx: SqlExecutor, input: CommitInput, locked?: { head: Head | undefined }): Promise<CommitResult> {
  const head = locked ? locked.head : await lockHead(tx);
  if (input.invocationKey) {
    // Unique key: a concurrent delivery on another replica waits here for the first one's transaction, then
    // inserts nothing and reads the reply it committed.
    const claimed = await tx.run(sql`INSERT INTO invocations (key, received_at, reply) VALUES (${input.invocationKey}, ${input.audit.at}, ${JSON.stringify(input.reply ?? null)}) ON CONFLICT (key) DO NOTHING`);
    if (claimed.changes === 0) {
      const row = await tx.one<{ reply: string }>(sql`SELECT reply FROM invocations WHERE key = ${input.invocationKey}`);
      return { ok: false, reason: 'duplicate', reply: JSON.parse(row!.reply) as Reply };
    }
  }
  // Compare-and-set on the state projection; the head lock above serializes every commit, so no other
  // writer can move the state between this check and the write below.
  if (await stateMoved(tx, input)) {
    if (!input.redecide) throw new ConflictSignal(); // rolls back this unit of work, including the invocation row
    input = await redecideLocked(tx, input, input.redecide);
  }
  for (const effect of input.effects ?? []) await effect(tx);
  const auditId = (head?.last_id ?? 0) + 1;
  // Event sequence numbers come from the table's identity (SQLite's rowid, PostgreSQL's identity column).
  const eventRows: [number, string, string, string, string, string][] = [];
  for (const e of input.events) {
    const data = JSON.stringify(e.event);
    const row = await tx.one<{ seq: number }>(
      sql`INSERT INTO events (at, actor, scope, type, data, audit_id) VALUES (${input.audit.at}, ${e.actor}, ${e.scope}, ${e.event.type}, ${data}, ${auditId}) RETURNING seq`,
    );
    eventRows.push([row!.seq, input.audit.at, e.actor, e.scope, e.event.type, data]);
  }
  // The record commits to the exact event rows it writes, so an event added, changed or removed breaks it.
  const a = toAuditRow(auditId, { ...input.audit, eventsHash: eventRows.length ? hashEvents(eventRows) : EMPTY_EVENTS_HASH }, head?.last_hash ?? GENESIS_HASH);
  const insertAudit = sql`INSERT INTO audit (id, at, platform, user_id, user_name, channel, raw_text, command, args, cluster, outcome, error, trace_id, invocation_id, events_hash, run_by, prev_hash, hash)
    VALUES (${a.id}, ${a.at}, ${a.platform}, ${a.user_id}, ${a.user_name}, ${a.channel}, ${a.raw_text}, ${a.command}, ${a.args}, ${a.cluster}, ${a.outcome}, ${a.error}, ${a.trace_id}, ${a.invocation_id}, ${a.events_hash}, ${a.run_by}, ${a.prev_hash}, ${a.hash})`;
  const moveHead = sql`INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, ${a.id}, ${a.hash}) ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash`;
  // PostgreSQL: one round trip for both while the head is locked (SQLite allows no INSERT inside WITH).
  if (tx.dialect === 'postgres') await tx.run(sql`WITH appended AS (${insertAudit} RETURNING id) ${moveHead}`);
  else {
    await tx.run(insertAudit);
    await tx.run(moveHead);
  }
  const last = eventRows.at(-1)?.[0];
  let state: ControlState | undefined;
  if (input.state && last !== undefined) {
    const version = input.version ?? `v${last}`;
    state = { ...input.state, seq: last, version };
    const doc = JSON.stringify(state);
    await tx.run(sql`INSERT INTO control_state (id, seq, version, doc) VALUES (1, ${last}, ${version}, ${doc}) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, doc = excluded.doc`);
  }
  const events = input.events.map((e, i) => ({ seq: eventRows[i]![0], at: input.audit.at, actor: e.actor, scope: e.scope, event: e.event }));
  return { ok: true, audit: fromAuditRow(a), events, ...(state ? { state } : {}) };
}

interface Pending {
  input: CommitInput;
  resolve: (r: CommitResult) => void;
  reject: (e: unknown) => void;
}

/** Created outside any unit of work: batches run in its scope, never inside the unit of work of whoever queued first. */
const ROOT_SCOPE = new AsyncResource('infrabot.group-commit');
const MAX_BATCH = 64;

/**
 * Group commit for PostgreSQL (SQLite's SqlDb does its own): commits that arrive while one batch is being
 * written go together into the next transaction, each in its own savepoint. The chain-head lock is held until
 * COMMIT has flushed the WAL, so without batching a cluster of replicas could append only one record per
 * flush; with it, each replica appends a whole batch per flush. A commit that fails undoes only its
 * savepoint; callers learn their outcome only after COMMIT.
 */
function createGroupCommit(db: SqlDb): (input: CommitInput) => Promise<CommitResult> {
  let queue: Pending[] = [];
  let writing = false;
  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(MAX_BATCH);
      const outcomes: { item: Pending; ok: boolean; value: unknown }[] = [];
      try {
        await db.transaction(async (outer) => {
          // Locked here, outside the savepoints: a lock taken inside one is released when it is rolled back.
          let head = await lockHead(outer);
          for (const item of batch) {
            try {
              const result = await db.transaction((tx) => commitIn(tx, item.input, { head }));
              if (result.ok) head = { last_id: result.audit.id, last_hash: result.audit.hash };
              outcomes.push({ item, ok: true, value: result });
            } catch (err) {
              outcomes.push({ item, ok: false, value: err });
            }
          }
        });
      } catch (err) {
        for (const item of batch) item.reject(err);
        continue;
      }
      for (const o of outcomes) (o.ok ? o.item.resolve(o.value as CommitResult) : o.item.reject(o.value));
    }
    writing = false;
  }
  return (input) =>
    new Promise<CommitResult>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (!writing) {
        writing = true;
        ROOT_SCOPE.runInAsyncScope(() => void drain());
      }
    });
}

/** One audit row as the walk sees it; `matches(prev)` says whether its stored hash covers its contents. */
interface WalkRow {
  id: number;
  prevHash: unknown;
  stored: unknown;
  eventsHash: string | null;
  blob: boolean;
  matches(prev: string): boolean;
}

/** Each record's events hash recomputed from the events table (few rows: only control changes write events). */
function groupEventsHash(rows: Iterable<readonly [number, number, string, string, string, string, string]>): Map<number, string> {
  const grouped = new Map<number, (readonly [number, string, string, string, string, string])[]>();
  for (const [auditId, ...rest] of rows) {
    let list = grouped.get(auditId);
    if (!list) grouped.set(auditId, (list = []));
    list.push(rest);
  }
  return new Map([...grouped].map(([id, r]) => [id, hashEvents(r)]));
}

type WalkOpts = NonNullable<Parameters<Store['walkAudit']>[0]>;

/**
 * The chain check shared by both backends: ids contiguous, each previous-hash the hash before it, contents
 * matching the hash, and (on a full walk) the events each record wrote matching its events hash.
 */
function createWalker(opts: WalkOpts, eventHashes: Map<number, string> | undefined) {
  const afterId = opts.afterId ?? 0;
  let prev = opts.prevHash ?? GENESIS_HASH;
  let lastId = afterId;
  let verified = 0;
  let found: AuditWalk['problem'];
  let modern = false;
  return {
    /** False when the walk should stop. */
    step(r: WalkRow): boolean {
      modern ||= r.eventsHash !== null;
      const problem =
        r.id !== lastId + 1 ? `record ${lastId + 1} is missing (next is ${r.id})`
        : r.prevHash !== prev ? 'its previous-hash does not match the record before it (deleted or reordered records)'
        : r.blob || typeof r.stored !== 'string' ? 'a column holds binary data where text was written (the record was changed)'
        : !r.matches(prev) ? 'its contents do not match its hash (the record was changed)'
        : eventHashes && r.eventsHash !== null && r.eventsHash !== (eventHashes.get(r.id) ?? EMPTY_EVENTS_HASH)
          ? 'the control events it wrote were changed, added or removed (they no longer match the hash it recorded)'
        : eventHashes && modern && r.eventsHash === null ? 'it lacks the events hash every record since the upgrade carries (the record was changed)'
        : undefined;
      if (problem) {
        found ??= { firstBad: r.id, problem };
        if (!opts.keepGoing) return false;
      }
      if (!found) verified++;
      const hash = String(r.stored);
      // Past a problem the walk goes on with the stored hashes, so checkpoints can still be compared.
      opts.onRecord?.(r.id, hash);
      prev = hash;
      lastId = r.id;
      return true;
    },
    finish(head: Head | undefined): AuditWalk {
      for (const id of found ? [] : (eventHashes?.keys() ?? [])) {
        if (!(id >= 1 && id <= lastId)) {
          found = { firstBad: lastId + 1, problem: `control events claim to be written by record ${id}, which does not exist (events were added, or their records deleted)` };
          break;
        }
      }
      return { count: verified, lastId, lastHash: prev, head: headOf(head), ...(found ? { problem: found } : {}) };
    },
  };
}

/**
 * SQLite's walk: SQLite builds each record's canonical JSON itself (json_array matches JSON.stringify for
 * these values), which halves the time over a million records. A record whose fast hash does not match is
 * recomputed from its columns in JS before it is called changed, so an escaping difference can slow
 * verification down but never produce a false alarm. Runs synchronously in one read transaction.
 */
function walkSqlite(conn: Database.Database, opts: WalkOpts): AuditWalk {
  const hashedFields = conn.prepare(`SELECT ${HASHED_COLUMNS} FROM audit WHERE id = ?`).raw();
  const plain = conn.prepare(`SELECT id, ${CANONICAL_SQL}, prev_hash, hash, events_hash FROM audit WHERE id > ? AND id <= ? ORDER BY id`).raw();
  // json_array refuses BLOBs, which the bot never writes: this variant (used only after that refusal) marks
  // rows holding one, so verification reports the changed record instead of failing.
  const guarded = () =>
    conn.prepare(
      `SELECT id, ${CANONICAL_SQL.replace(/json_array\(([^)]*)\)/g, (_m, cols: string) => `json_array(${cols.split(', ').map((c) => `IIF(typeof(${c}) = 'blob', NULL, ${c})`).join(', ')})`)}, ` +
        `prev_hash, hash, events_hash, ${HASHED_COLUMNS.split(', ').map((c) => `typeof(${c}) = 'blob'`).join(' OR ')} FROM audit WHERE id > ? AND id <= ? ORDER BY id`,
    ).raw();
  return conn.transaction((): AuditWalk => {
    const head = conn.prepare('SELECT last_id, last_hash FROM audit_head WHERE id = 1').get() as Head | undefined;
    const full = (opts.afterId ?? 0) === 0 && opts.uptoId === undefined;
    const eventHashes = full
      ? groupEventsHash(conn.prepare('SELECT audit_id, seq, at, actor, scope, type, data FROM events ORDER BY audit_id, seq').raw().iterate() as IterableIterator<[number, number, string, string, string, string, string]>)
      : undefined;
    let delivered = opts.afterId ?? 0; // records already handed to onRecord (kept across the BLOB retry)
    const onRecord = opts.onRecord;
    const run = (statement: Database.Statement) => {
      const walker = createWalker({ ...opts, onRecord: (id, hash) => id > delivered && (onRecord?.(id, hash), (delivered = id)) }, eventHashes);
      const rows = statement.iterate(opts.afterId ?? 0, opts.uptoId ?? Number.MAX_SAFE_INTEGER) as IterableIterator<[number, string, unknown, unknown, string | null, number?]>;
      for (const [id, canonical, prevHash, stored, eventsHash, blob] of rows) {
        const row: WalkRow = {
          id, prevHash, stored, eventsHash, blob: Boolean(blob),
          matches: (prev) => hashCanonical(prev, canonical) === stored || hashAuditFields(prev, hashedFields.get(id) as unknown[]) === stored,
        };
        if (!walker.step(row)) break;
      }
      return walker.finish(head);
    };
    try {
      return run(plain);
    } catch (err) {
      if (!/BLOB/i.test(String((err as Error).message))) throw err;
      return run(guarded());
    }
  }).deferred();
}

/** PostgreSQL's walk: pages of rows from one snapshot, canonical JSON built in JS. */
async function walkPortable(tx: SqlExecutor, opts: WalkOpts): Promise<AuditWalk> {
  const head = await tx.one<Head>(sql`SELECT last_id, last_hash FROM audit_head WHERE id = 1`);
  const full = (opts.afterId ?? 0) === 0 && opts.uptoId === undefined;
  const eventHashes = full
    ? groupEventsHash(
        (await tx.all<{ audit_id: number; seq: number; at: string; actor: string; scope: string; type: string; data: string }>(
          sql`SELECT audit_id, seq, at, actor, scope, type, data FROM events ORDER BY audit_id, seq`,
        )).map((r) => [r.audit_id, r.seq, r.at, r.actor, r.scope, r.type, r.data] as const),
      )
    : undefined;
  const walker = createWalker(opts, eventHashes);
  const columns = HASHED_COLUMNS.split(', ');
  const upto = opts.uptoId ?? Number.MAX_SAFE_INTEGER;
  for (let after = opts.afterId ?? 0; ; ) {
    const rows = await tx.all<Record<string, unknown>>(sql`SELECT ${sql.raw(HASHED_COLUMNS)}, prev_hash, hash FROM audit WHERE id > ${after} AND id <= ${upto} ORDER BY id LIMIT 5000`);
    if (rows.length === 0) break;
    for (const r of rows) {
      const fields = columns.map((c) => r[c]);
      const row: WalkRow = {
        id: Number(r.id), prevHash: r.prev_hash, stored: r.hash, eventsHash: (r.events_hash as string | null) ?? null, blob: false,
        matches: (prev) => hashAuditFields(prev, fields) === r.hash,
      };
      if (!walker.step(row)) return walker.finish(head);
    }
    after = Number(rows.at(-1)!.id);
  }
  return walker.finish(head);
}

/**
 * The control store on the unit of work, one implementation for SQLite and PostgreSQL: a commit writes the
 * invocation, the command's other writes (effects), control events, the state projection and the audit
 * record in one transaction. `store.db` is that unit of work, for other stores to write in the same one.
 */
export async function createSqlStore(options: SqlStoreOptions): Promise<Store> {
  const { db } = options;
  if (options.migrate !== false) await migrateSqlDb(db);
  const sqlite = db.handle;
  // A read-only side connection for long reads on a SQLite file: they see committed data as of one moment
  // and never hold the writer's connection. In memory there is only the writer.
  let reader: Database.Database | undefined;
  const readConn = (): Database.Database => {
    if (!sqlite) throw new Error('not a SQLite database');
    if (sqlite.memory) return sqlite;
    return (reader ??= new Database(sqlite.name, { readonly: true, timeout: 5000 }));
  };
  /** Runs `fn` on one consistent snapshot (several statements that must agree with each other). */
  const snapshot = async <T>(fn: (r: SqlExecutor) => Promise<T>): Promise<T> => {
    if (db.dialect === 'postgres') {
      return db.transaction(async (tx) => {
        await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        return fn(tx);
      });
    }
    const conn = readConn();
    if (conn === sqlite) return db.transaction(fn);
    // One read transaction at a time on the side connection.
    const run = snapshots.then(async () => {
      conn.exec('BEGIN');
      try {
        return await fn((readExec ??= executorOn(conn)));
      } finally {
        conn.exec('COMMIT');
      }
    });
    snapshots = run.catch(() => undefined);
    return run;
  };
  let snapshots: Promise<unknown> = Promise.resolve();
  let readExec: SqlExecutor | undefined;
  let parsedState: ControlState | undefined;
  const write = db.dialect === 'postgres' ? createGroupCommit(db) : (input: CommitInput) => db.transaction((tx) => commitIn(tx, input));

  const store: Store = {
    db,

    async readState() {
      // The parsed document is reused while the stored sequence is unchanged (checked on every read, so another
      // writer's change is always seen); callers treat state as immutable.
      const head = await db.one<{ seq: number }>(sql`SELECT seq FROM control_state WHERE id = 1`);
      if (head === undefined) return undefined;
      if (parsedState?.seq !== head.seq) {
        const row = await db.one<{ doc: string }>(sql`SELECT doc FROM control_state WHERE id = 1`);
        parsedState = JSON.parse(row!.doc) as ControlState;
      }
      return parsedState;
    },

    async commit(input) {
      if (input.events.length > 0 && !input.state) throw new Error('a commit with events must carry the state they produce');
      try {
        return await write(input);
      } catch (err) {
        if (err instanceof ConflictSignal) return { ok: false, reason: 'conflict' };
        throw err;
      }
    },

    async events({ until, after, scope }) {
      const conds: SqlFragment[] = [];
      if (until !== undefined) conds.push(sql`at <= ${until}`);
      if (after !== undefined) conds.push(sql`at > ${after}`);
      if (scope !== undefined) conds.push(sql`scope = ${scope}`);
      return (await db.all<EventRow>(sql`SELECT seq, at, actor, scope, data FROM events ${where(conds)} ORDER BY seq`)).map(toStoredEvent);
    },

    async findInvocationReply(key) {
      const row = await db.one<{ reply: string }>(sql`SELECT reply FROM invocations WHERE key = ${key}`);
      return row === undefined ? undefined : (JSON.parse(row.reply) as Reply);
    },

    async saveAction(a) {
      await db.run(sql`INSERT INTO actions (id, kind, grp, command, confirmed, single_use, created_by, created_at, expires_at)
        VALUES (${a.id}, ${a.kind ?? 'run'}, ${a.group ?? a.id}, ${a.command}, ${a.confirmed ? 1 : 0}, ${a.singleUse ? 1 : 0}, ${a.createdBy}, ${a.createdAt}, ${a.expiresAt ?? null})`);
    },

    async getAction(id) {
      const r = await db.one<ActionRow>(sql`SELECT * FROM actions WHERE id = ${id}`);
      if (!r) return undefined;
      return {
        id: r.id,
        kind: r.kind === 'cancel' ? 'cancel' : 'run',
        group: r.grp,
        command: r.command,
        confirmed: r.confirmed === 1,
        singleUse: r.single_use === 1,
        createdBy: r.created_by,
        createdAt: r.created_at,
        ...(r.expires_at ? { expiresAt: r.expires_at } : {}),
        ...(r.used_at ? { usedAt: r.used_at } : {}),
      };
    },

    async prune(before) {
      let total = (await db.run(sql`DELETE FROM actions WHERE expires_at IS NOT NULL AND expires_at < ${before}`)).changes;
      // Small chunks keep each write short. SQLite has no index on received_at (it would cost every command a
      // page write): its table scan runs in insertion order, so old keys are found first; PostgreSQL has one.
      for (let n = 2000; n === 2000; total += n) {
        n = (await db.run(sql`DELETE FROM invocations WHERE key IN (SELECT key FROM invocations WHERE received_at < ${before} LIMIT 2000)`)).changes;
        await new Promise((resolve) => setImmediate(resolve)); // let commands in between chunks
      }
      return total;
    },

    async useActionGroup(group, at) {
      return (await db.run(sql`UPDATE actions SET used_at = ${at} WHERE grp = ${group} AND used_at IS NULL`)).changes > 0;
    },

    async releaseActionGroup(group, at) {
      await db.run(sql`UPDATE actions SET used_at = NULL WHERE grp = ${group} AND used_at = ${at}`);
    },

    async searchAudit(query) {
      const conds: SqlFragment[] = [];
      if (query.userId) conds.push(sql`user_id = ${query.userId}`);
      if (query.cluster) conds.push(sql`cluster = ${query.cluster}`);
      if (query.command) conds.push(sql`(command = ${query.command} OR command LIKE ${`${query.command} %`})`);
      if (query.since) conds.push(sql`at >= ${query.since}`);
      if (query.until) conds.push(sql`at <= ${query.until}`);
      // Newest first; every filter has an (x, at) index, so the walk is in time order and stops at the LIMIT.
      return (await db.all<AuditRow>(sql`SELECT * FROM audit ${where(conds)} ORDER BY at DESC, id DESC LIMIT ${query.limit}`)).map(fromAuditRow);
    },

    async walkAudit(opts = {}) {
      // One read snapshot: the rows and the head are seen as of the same moment, so commits made by a running
      // bot meanwhile are neither half-seen nor mistaken for deleted records.
      if (sqlite) return walkSqlite(readConn(), opts);
      return snapshot((tx) => walkPortable(tx, opts));
    },

    async verifyAudit(): Promise<VerifyResult> {
      const walk = await store.walkAudit();
      if (walk.problem) return { ok: false, count: walk.count, ...walk.problem };
      const { head, count } = walk;
      if ((head?.lastId ?? 0) !== count || (head && head.lastHash !== walk.lastHash)) {
        return {
          ok: false,
          count,
          firstBad: count + 1,
          problem: head
            ? `the chain ends at record ${count} but ${head.lastId} were written (records deleted from the end)`
            : `the chain head record is missing although ${count} records exist`,
        };
      }
      return { ok: true, count };
    },

    async latestCheckpoint() {
      const r = await db.one<CheckpointRow>(sql`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`);
      return r ? toStoredCheckpoint(r) : undefined;
    },

    async checkpoints() {
      return (await db.all<CheckpointRow>(sql`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY seq`)).map(toStoredCheckpoint);
    },

    async appendCheckpoint(cp, frontier, leaves) {
      const packed = leaves ? Buffer.from(leaves.join(''), 'hex') : null;
      const r = await db.run(sql`INSERT INTO audit_checkpoints (seq, last_id, statement, hash, key_id, signature, frontier, leaves)
        VALUES (${cp.seq}, ${cp.lastId}, ${cp.statement}, ${cp.hash}, ${cp.keyId}, ${cp.signature}, ${JSON.stringify(frontier)}, ${packed}) ON CONFLICT (seq) DO NOTHING`);
      return r.changes > 0;
    },

    async checkpointLeaves(seq) {
      const packed = (await db.one<{ leaves: unknown }>(sql`SELECT leaves FROM audit_checkpoints WHERE seq = ${seq}`))?.leaves;
      if (!Buffer.isBuffer(packed) || packed.length % 32 !== 0) return undefined;
      const hex = packed.toString('hex');
      return Array.from({ length: packed.length / 32 }, (_, i) => hex.slice(i * 64, i * 64 + 64));
    },

    async auditHashes(afterId, uptoId) {
      return (await db.all<{ hash: unknown }>(sql`SELECT hash FROM audit WHERE id > ${afterId} AND id <= ${uptoId} ORDER BY id`)).map((r) => String(r.hash));
    },

    async keyRotations() {
      return (await db.all<{ doc: string }>(sql`SELECT doc FROM audit_key_rotations`)).map((r) => JSON.parse(r.doc) as KeyRotation);
    },

    async saveKeyRotation(r) {
      await db.run(sql`INSERT INTO audit_key_rotations (new_key_id, doc) VALUES (${r.newKeyId}, ${JSON.stringify(r)}) ON CONFLICT (new_key_id) DO NOTHING`);
    },

    async leafHashes(uptoId) {
      return (await db.all<{ hash: string }>(sql`SELECT hash FROM audit WHERE id <= ${uptoId} ORDER BY id`)).map((r) => r.hash);
    },

    async auditFields(id) {
      const row = await db.one<Record<string, unknown>>(sql`SELECT ${sql.raw(HASHED_COLUMNS)}, prev_hash FROM audit WHERE id = ${id}`);
      if (!row) return undefined;
      return { fields: HASHED_COLUMNS.split(', ').map((c) => row[c]), prevHash: row.prev_hash as string };
    },

    async controlSnapshot() {
      return snapshot(async (r) => {
        const row = await r.one<{ doc: string }>(sql`SELECT doc FROM control_state WHERE id = 1`);
        const events = (await r.all<EventRow>(sql`SELECT seq, at, actor, scope, data FROM events ORDER BY seq`)).map(toStoredEvent);
        return { state: row ? (JSON.parse(row.doc) as ControlState) : undefined, events };
      });
    },

    async exportAudit(write) {
      // Page by id: a slow reader may be awaited between records, and no statement stays open meanwhile.
      let n = 0;
      for (let after = 0; ; ) {
        const rows = await db.all<AuditRow>(sql`SELECT * FROM audit WHERE id > ${after} ORDER BY id LIMIT 1000`);
        if (rows.length === 0) return n;
        for (const row of rows) {
          const r = write(fromAuditRow(row));
          if ((r instanceof Promise ? await r : r) === false) return n;
          n++;
        }
        after = rows.at(-1)!.id;
      }
    },

    async close() {
      reader?.close();
      if (options.ownsDb !== false) await db.close(); // waits for units of work already handed over
    },
  };
  return store;
}
