import { parentPort, workerData } from 'node:worker_threads';
import { createSqliteDb } from '../store/db/sqlite-db.js';
import { createSqlStore } from '../store/sql-store.js';
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
  const db = createSqliteDb({ file: job.file, readonly: true });
  try {
    const store = await createSqlStore({ db, migrate: false });
    if (job.kind === 'verify') return await verifyAuditLog({ store, anchors: job.anchors, ...(job.witness ? { witness: job.witness } : {}) });
    const results: AuditRecord[][] = [];
    for (const q of job.queries) results.push(await store.searchAudit(q));
    return results;
  } finally {
    await db.close();
  }
}

if (parentPort) {
  const port = parentPort;
  run(workerData as ReadJob).then(
    (result) => port.postMessage({ ok: true, result }),
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
}
