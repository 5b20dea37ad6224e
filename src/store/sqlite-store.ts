import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CANONICAL_SQL, GENESIS_HASH, HASHED_COLUMNS, fromAuditRow, hashAuditFields, hashCanonical, hashEvents, toAuditRow, type AuditQuery, type AuditRow } from '../audit/audit-record.js';
import type { Checkpoint, StoredCheckpoint } from '../audit/checkpoint.js';
import type { KeyRotation } from '../audit/signing-key.js';
import type { ControlEvent, StoredEvent } from '../engine/control-events.js';
import type { ControlState } from '../engine/control-state.js';
import type { Reply } from '../framework/reply.js';
import { MIGRATIONS, migrationSql } from './migrations.js';
import type { AuditWalk, CommitInput, CommitResult, Store, VerifyResult } from './store.js';

export interface SqliteStoreOptions {
  /** File path, or ":memory:" for tests that need no persistence. */
  file?: string;
  /** An already open database (shared with other SQLite-backed stores of the same file). */
  db?: Database.Database;
  /** Apply pending migrations on open (the default); `infrabot migrate` does it explicitly. */
  migrate?: boolean;
  /** How long a write waits for another process's lock before failing (default 5 s). */
  busyTimeoutMs?: number;
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

const toStoredEvent = (r: EventRow): StoredEvent => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  scope: r.scope,
  event: JSON.parse(r.data) as ControlEvent,
});

/** Applies numbered migrations not yet recorded; returns the versions applied. */
export function migrate(db: Database.Database): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const done = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(migrationSql(m, 'sqlite'));
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}

export function openSqliteDatabase(file: string, busyTimeoutMs = 5000): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode keeps every commit atomic and loses at most the last ones on power loss, never corrupts.
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('foreign_keys = ON');
  return db;
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

const toStoredCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({
  ...(JSON.parse(r.statement) as Omit<Checkpoint, 'statement' | 'hash' | 'signature'>),
  statement: r.statement,
  hash: r.hash,
  signature: r.signature,
  frontier: JSON.parse(r.frontier) as string[],
});

const headOf = (h: { last_id: number; last_hash: string } | undefined) => (h ? { lastId: h.last_id, lastHash: h.last_hash } : undefined);

const EMPTY_EVENTS_HASH = hashEvents([]);

/** Thrown inside a commit's savepoint to undo it when the state moved on under the command. */
class ConflictSignal extends Error {}

export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const db = options.db ?? openSqliteDatabase(options.file ?? ':memory:', options.busyTimeoutMs);
  if (options.migrate !== false) migrate(db);

  const q = {
    readState: db.prepare('SELECT seq, doc FROM control_state WHERE id = 1'),
    stateSeq: db.prepare('SELECT seq FROM control_state WHERE id = 1').pluck(),
    stateHead: db.prepare('SELECT seq, version FROM control_state WHERE id = 1'),
    maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM events').pluck(),
    upsertState: db.prepare(
      'INSERT INTO control_state (id, seq, version, doc) VALUES (1, @seq, @version, @doc) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, version = excluded.version, doc = excluded.doc',
    ),
    insertEvent: db.prepare('INSERT INTO events (seq, at, actor, scope, type, data, audit_id) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    head: db.prepare('SELECT last_id, last_hash FROM audit_head WHERE id = 1'),
    upsertHead: db.prepare(
      'INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash',
    ),
    insertAudit: db.prepare(
      `INSERT INTO audit (id, at, platform, user_id, user_name, channel, raw_text, command, args, cluster, outcome, error, trace_id, invocation_id, events_hash, run_by, prev_hash, hash)
       VALUES (@id, @at, @platform, @user_id, @user_name, @channel, @raw_text, @command, @args, @cluster, @outcome, @error, @trace_id, @invocation_id, @events_hash, @run_by, @prev_hash, @hash)`,
    ),
    insertInvocation: db.prepare('INSERT INTO invocations (key, received_at, reply) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING'),
    invocationReply: db.prepare('SELECT reply FROM invocations WHERE key = ?').pluck(),
    saveAction: db.prepare(
      'INSERT INTO actions (id, kind, grp, command, confirmed, single_use, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    getAction: db.prepare('SELECT * FROM actions WHERE id = ?'),
    useActionGroup: db.prepare('UPDATE actions SET used_at = ? WHERE grp = ? AND used_at IS NULL'),
    releaseActionGroup: db.prepare('UPDATE actions SET used_at = NULL WHERE grp = ? AND used_at = ?'),
    // No index on received_at (it would cost every command a page write): old keys sit at the lowest rowids,
    // so a rowid-order scan finds them first, and small chunks keep each write lock short.
    pruneInvocations: db.prepare('DELETE FROM invocations WHERE rowid IN (SELECT rowid FROM invocations WHERE received_at < ? ORDER BY rowid LIMIT 2000)'),
    walkRows: db.prepare(`SELECT id, ${CANONICAL_SQL}, prev_hash, hash, events_hash FROM audit WHERE id > ? AND id <= ? ORDER BY id`).raw(),
    // json_array refuses BLOBs, which the bot never writes: this variant (used only after that refusal) marks
    // rows holding one, so verification reports the changed record instead of failing.
    walkRowsGuarded: db.prepare(
      `SELECT id, ${CANONICAL_SQL.replace(/json_array\(([^)]*)\)/g, (_m, cols: string) => `json_array(${cols.split(', ').map((c) => `IIF(typeof(${c}) = 'blob', NULL, ${c})`).join(', ')})`)}, ` +
        `prev_hash, hash, events_hash, ${HASHED_COLUMNS.split(', ').map((c) => `typeof(${c}) = 'blob'`).join(' OR ')} FROM audit WHERE id > ? AND id <= ? ORDER BY id`,
    ).raw(),
    eventRows: db.prepare('SELECT audit_id, seq, at, actor, scope, type, data FROM events ORDER BY audit_id, seq').raw(),
    latestCheckpoint: db.prepare('SELECT seq, last_id, statement, hash, key_id, signature, frontier FROM audit_checkpoints ORDER BY seq DESC LIMIT 1'),
    checkpoints: db.prepare('SELECT seq, last_id, statement, hash, key_id, signature, frontier FROM audit_checkpoints ORDER BY seq'),
    insertCheckpoint: db.prepare(
      'INSERT INTO audit_checkpoints (seq, last_id, statement, hash, key_id, signature, frontier, leaves) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING',
    ),
    checkpointLeaves: db.prepare('SELECT leaves FROM audit_checkpoints WHERE seq = ?').pluck(),
    rangeHashes: db.prepare('SELECT hash FROM audit WHERE id > ? AND id <= ? ORDER BY id').pluck(),
    rotations: db.prepare('SELECT doc FROM audit_key_rotations').pluck(),
    insertRotation: db.prepare('INSERT INTO audit_key_rotations (new_key_id, doc) VALUES (?, ?) ON CONFLICT (new_key_id) DO NOTHING'),
    leafHashes: db.prepare('SELECT hash FROM audit WHERE id <= ? ORDER BY id').pluck(),
    prevHash: db.prepare('SELECT prev_hash FROM audit WHERE id = ?').pluck(),
    hashedFields: db.prepare(`SELECT ${HASHED_COLUMNS} FROM audit WHERE id = ?`).raw(),
    pruneActions: db.prepare('DELETE FROM actions WHERE expires_at IS NOT NULL AND expires_at < ?'),
  };

  const commitOne = db.transaction((input: CommitInput): CommitResult => {
    if (input.invocationKey && q.insertInvocation.run(input.invocationKey, input.audit.at, JSON.stringify(input.reply ?? null)).changes === 0) {
      return { ok: false, reason: 'duplicate', reply: JSON.parse(q.invocationReply.get(input.invocationKey) as string) as Reply };
    }
    const current =
      input.events.length > 0 || input.expectedVersion !== undefined
        ? ((q.stateHead.get() as { seq: number; version: string } | undefined) ?? { seq: 0, version: '' })
        : undefined;
    const moved =
      current !== undefined &&
      ((input.events.length > 0 && current.seq !== input.expectedSeq) ||
        (input.expectedVersion !== undefined && current.version !== input.expectedVersion));
    if (moved) {
      throw new ConflictSignal(); // rolls back this commit's savepoint, including the invocation row
    }
    for (const effect of input.effects ?? []) effect();
    const head = q.head.get() as { last_id: number; last_hash: string } | undefined;
    let seq = q.maxSeq.get() as number;
    const eventRows = input.events.map((e) => [++seq, input.audit.at, e.actor, e.scope, e.event.type, JSON.stringify(e.event)] as const);
    // The record commits to the exact event rows it writes, so an event added, changed or removed breaks it.
    const row = toAuditRow((head?.last_id ?? 0) + 1, { ...input.audit, eventsHash: eventRows.length ? hashEvents(eventRows) : EMPTY_EVENTS_HASH }, head?.last_hash ?? GENESIS_HASH);
    q.insertAudit.run(row);
    q.upsertHead.run(row.id, row.hash);
    const events: StoredEvent[] = [];
    input.events.forEach((e, i) => {
      q.insertEvent.run(...eventRows[i]!, row.id);
      events.push({ seq: eventRows[i]![0], at: input.audit.at, actor: e.actor, scope: e.scope, event: e.event });
    });
    if (input.state && input.events.length > 0) {
      const version = input.version ?? `v${seq}`;
      q.upsertState.run({ seq, version, doc: JSON.stringify({ ...input.state, seq, version }) });
    }
    return { ok: true, audit: fromAuditRow(row), events };
  });

  /**
   * Group commit: commits that arrive while one is being written are written together in one transaction,
   * each in its own savepoint, so a busy bot pays one WAL write per batch instead of one per command.
   * Callers learn their result only after COMMIT succeeded; if the transaction fails as a whole, every
   * caller of that batch is rejected and nothing of the batch is kept.
   */
  type Pending = { input: CommitInput; resolve: (r: CommitResult) => void; reject: (e: unknown) => void };
  let queue: Pending[] = [];
  const writeBatch = db.transaction((batch: Pending[]) =>
    batch.map((item): { item: Pending; result?: CommitResult; error?: unknown } => {
      try {
        return { item, result: commitOne(item.input) };
      } catch (err) {
        if (err instanceof ConflictSignal) return { item, result: { ok: false, reason: 'conflict' } };
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction: fail the batch as a whole
        // rather than let the rest of it run as separate autocommits.
        if (!db.inTransaction) throw err;
        return { item, error: err };
      }
    }),
  );
  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    let outcomes;
    try {
      // BEGIN IMMEDIATE takes the write lock up front, so another process's writer waits instead of failing mid-way.
      outcomes = writeBatch.immediate(batch);
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    for (const o of outcomes) (o.result ? o.item.resolve(o.result) : o.item.reject(o.error));
  };

  let parsedState: ControlState | undefined;

  /** Each record's events hash recomputed from the events table (few rows: only control changes write events). */
  function eventsHashByRecord(): Map<number, string> {
    const grouped = new Map<number, (readonly [number, string, string, string, string, string])[]>();
    for (const [auditId, ...rest] of q.eventRows.iterate() as IterableIterator<[number, number, string, string, string, string, string]>) {
      let list = grouped.get(auditId);
      if (!list) grouped.set(auditId, (list = []));
      list.push(rest);
    }
    return new Map([...grouped].map(([id, rows]) => [id, hashEvents(rows)]));
  }

  const store: Store = {
    async readState() {
      // The parsed document is reused while the stored sequence is unchanged (checked on every read, so another
      // writer's change is always seen); callers treat state as immutable.
      const seq = q.stateSeq.get() as number | undefined;
      if (seq === undefined) return undefined;
      if (parsedState?.seq !== seq) {
        const row = q.readState.get() as { seq: number; doc: string };
        parsedState = JSON.parse(row.doc) as ControlState;
      }
      return parsedState;
    },

    commit(input) {
      if (input.events.length > 0 && !input.state) {
        return Promise.reject(new Error('a commit with events must carry the state they produce'));
      }
      return new Promise<CommitResult>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ input, resolve, reject });
      });
    },

    async events({ until, after, scope }) {
      const where: string[] = [];
      const params: string[] = [];
      if (until !== undefined) where.push('at <= ?') && params.push(until);
      if (after !== undefined) where.push('at > ?') && params.push(after);
      if (scope !== undefined) where.push('scope = ?') && params.push(scope);
      const sql = `SELECT seq, at, actor, scope, data FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq`;
      return (db.prepare(sql).all(...params) as EventRow[]).map(toStoredEvent);
    },

    async findInvocationReply(key) {
      const reply = q.invocationReply.get(key) as string | undefined;
      return reply === undefined ? undefined : (JSON.parse(reply) as Reply);
    },

    async saveAction(a) {
      q.saveAction.run(a.id, a.kind ?? 'run', a.group ?? a.id, a.command, a.confirmed ? 1 : 0, a.singleUse ? 1 : 0, a.createdBy, a.createdAt, a.expiresAt ?? null);
    },

    async getAction(id) {
      const r = q.getAction.get(id) as ActionRow | undefined;
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
      let total = q.pruneActions.run(before).changes;
      for (let n = 2000; n === 2000; total += n) {
        n = q.pruneInvocations.run(before).changes;
        await new Promise((resolve) => setImmediate(resolve)); // let commands in between chunks
      }
      return total;
    },

    async useActionGroup(group, at) {
      return q.useActionGroup.run(at, group).changes > 0;
    },

    async releaseActionGroup(group, at) {
      q.releaseActionGroup.run(group, at);
    },

    async searchAudit(query: AuditQuery) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (query.userId) where.push('user_id = ?') && params.push(query.userId);
      if (query.cluster) where.push('cluster = ?') && params.push(query.cluster);
      if (query.command) {
        where.push('(command = ? OR command LIKE ?)');
        params.push(query.command, `${query.command} %`);
      }
      if (query.since) where.push('at >= ?') && params.push(query.since);
      if (query.until) where.push('at <= ?') && params.push(query.until);
      // Newest first; every filter has an (x, at) index, so the walk is in time order and stops at the LIMIT.
      const sql = `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY at DESC, id DESC LIMIT ?`;
      return (db.prepare(sql).all(...params, query.limit) as AuditRow[]).map(fromAuditRow);
    },

    async walkAudit(opts = {}) {
      // One read transaction: the rows and the head are seen as of the same moment, so commits made by a
      // running bot meanwhile are neither half-seen nor mistaken for deleted records.
      return db.transaction((): AuditWalk => {
        const head = q.head.get() as { last_id: number; last_hash: string } | undefined;
        const afterId = opts.afterId ?? 0;
        const eventHashes = afterId === 0 && opts.uptoId === undefined ? eventsHashByRecord() : undefined;
        let prev = GENESIS_HASH;
        let lastId = afterId;
        let verified = 0;
        let found: AuditWalk['problem'];
        let delivered = afterId; // records already handed to onRecord (kept across the BLOB retry)
        // SQLite builds each record's canonical JSON itself (json_array matches JSON.stringify for these
        // values), which halves the time over a million records. Any record whose fast hash does not match is
        // recomputed from its columns in JS before it is called changed, so an escaping difference can slow
        // verification down but never produce a false alarm.
        const walk = (statement: typeof q.walkRows) => {
          prev = opts.prevHash ?? GENESIS_HASH;
          lastId = afterId;
          verified = 0;
          found = undefined;
          let modern = false;
          const rows = statement.iterate(afterId, opts.uptoId ?? Number.MAX_SAFE_INTEGER) as IterableIterator<[number, string, string | Buffer, string | Buffer, string | null, number?]>;
          for (const [id, canonical, prevHash, stored, eventsHash, blob] of rows) {
            modern ||= eventsHash !== null;
            const problem =
              id !== lastId + 1 ? `record ${lastId + 1} is missing (next is ${id})`
              : prevHash !== prev ? 'its previous-hash does not match the record before it (deleted or reordered records)'
              : blob || typeof stored !== 'string' ? 'a column holds binary data where text was written (the record was changed)'
              : hashCanonical(prev, canonical) !== stored && hashAuditFields(prev, q.hashedFields.get(id) as unknown[]) !== stored
                ? 'its contents do not match its hash (the record was changed)'
              : eventHashes && eventsHash !== null && eventsHash !== (eventHashes.get(id) ?? EMPTY_EVENTS_HASH)
                ? 'the control events it wrote were changed, added or removed (they no longer match the hash it recorded)'
              : eventHashes && modern && eventsHash === null ? 'it lacks the events hash every record since the upgrade carries (the record was changed)'
              : undefined;
            if (problem) {
              found ??= { firstBad: id, problem };
              if (!opts.keepGoing) break;
            }
            if (!found) verified++;
            const hash = String(stored);
            // Past a problem the walk goes on with the stored hashes, so checkpoints can still be compared.
            if (id > delivered) {
              opts.onRecord?.(id, hash);
              delivered = id;
            }
            prev = hash;
            lastId = id;
          }
        };
        try {
          walk(q.walkRows);
        } catch (err) {
          if (!/BLOB/i.test(String((err as Error).message))) throw err;
          walk(q.walkRowsGuarded);
        }
        for (const id of found ? [] : (eventHashes?.keys() ?? [])) {
          if (!(id >= 1 && id <= lastId)) {
            found = { firstBad: lastId + 1, problem: `control events claim to be written by record ${id}, which does not exist (events were added, or their records deleted)` };
            break;
          }
        }
        return { count: verified, lastId, lastHash: prev, head: headOf(head), ...(found ? { problem: found } : {}) };
      }).deferred();
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
      const r = q.latestCheckpoint.get() as CheckpointRow | undefined;
      return r ? toStoredCheckpoint(r) : undefined;
    },

    async checkpoints() {
      return (q.checkpoints.all() as CheckpointRow[]).map(toStoredCheckpoint);
    },

    async appendCheckpoint(cp, frontier, leaves) {
      const packed = leaves ? Buffer.from(leaves.join(''), 'hex') : null;
      return q.insertCheckpoint.run(cp.seq, cp.lastId, cp.statement, cp.hash, cp.keyId, cp.signature, JSON.stringify(frontier), packed).changes > 0;
    },

    async checkpointLeaves(seq) {
      const packed = q.checkpointLeaves.get(seq) as Buffer | string | null | undefined;
      if (!Buffer.isBuffer(packed) || packed.length % 32 !== 0) return undefined;
      const hex = packed.toString('hex');
      return Array.from({ length: packed.length / 32 }, (_, i) => hex.slice(i * 64, i * 64 + 64));
    },

    async auditHashes(afterId, uptoId) {
      return (q.rangeHashes.all(afterId, uptoId) as unknown[]).map(String);
    },

    async keyRotations() {
      return (q.rotations.all() as string[]).map((d) => JSON.parse(d) as KeyRotation);
    },

    async saveKeyRotation(r) {
      q.insertRotation.run(r.newKeyId, JSON.stringify(r));
    },

    async leafHashes(uptoId) {
      return q.leafHashes.all(uptoId) as string[];
    },

    async auditFields(id) {
      const fields = q.hashedFields.get(id) as unknown[] | undefined;
      const prevHash = q.prevHash.get(id) as string | undefined;
      return fields && prevHash !== undefined ? { fields, prevHash } : undefined;
    },

    async controlSnapshot() {
      return db.transaction(() => {
        const row = q.readState.get() as { seq: number; doc: string } | undefined;
        const events = (db.prepare('SELECT seq, at, actor, scope, data FROM events ORDER BY seq').all() as EventRow[]).map(toStoredEvent);
        return { state: row ? (JSON.parse(row.doc) as ControlState) : undefined, events };
      }).deferred();
    },

    async exportAudit(write) {
      // Page by id: a slow reader may be awaited between records, and no statement stays open meanwhile.
      const page = db.prepare('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT 1000');
      let n = 0;
      let after = 0;
      for (;;) {
        const rows = page.all(after) as AuditRow[];
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
      flush(); // never drop an audit record that was already handed to us
      db.close();
    },
  };
  return store;
}
