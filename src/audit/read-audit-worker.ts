import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { createSqliteStore } from '../store/sqlite-store.js';
import type { AuditQuery, AuditRecord } from './audit-record.js';
import { verifyAuditLog, type AuditVerification, type VerifyAuditOptions } from './verify-audit-log.js';

/** What a worker is given: the database file and one long read (see read-off-loop.ts). */
export type ReadJob =
  | { kind: 'verify'; file: string; anchors: readonly string[]; witness?: VerifyAuditOptions['witness'] }
  | { kind: 'searchAudit'; file: string; queries: AuditQuery[] };

export type ReadResult<J extends ReadJob> = J extends { kind: 'verify' } ? AuditVerification : AuditRecord[][];

/**
 * Runs in a worker thread: one long read on a read-only connection of its own, so the bot's event loop keeps
 * acknowledging chat while a long chain is walked or a report's records are read.
 */
async function run(job: ReadJob): Promise<AuditVerification | AuditRecord[][]> {
  const db = new Database(job.file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    const store = await createSqliteStore({ db, migrate: false });
    if (job.kind === 'verify') return await verifyAuditLog({ store, anchors: job.anchors, ...(job.witness ? { witness: job.witness } : {}) });
    const results: AuditRecord[][] = [];
    for (const q of job.queries) results.push(await store.searchAudit(q));
    return results;
  } finally {
    db.close();
  }
}

if (parentPort) {
  const port = parentPort;
  run(workerData as ReadJob).then(
    (result) => port.postMessage({ ok: true, result }),
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
}
