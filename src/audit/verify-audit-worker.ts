import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { createSqliteStore } from '../store/sqlite-store.js';
import { verifyAuditLog, type VerifyAuditOptions } from './verify-audit-log.js';

/** What the worker is given: the database file and what verification compares against. */
export interface VerifyJob {
  file: string;
  anchors: readonly string[];
  witness?: VerifyAuditOptions['witness'];
}

/**
 * Runs in a worker thread (see verify-off-loop.ts): the whole verification on a read-only connection of its
 * own, so the bot's event loop keeps acknowledging chat while a long chain is walked.
 */
async function run(job: VerifyJob) {
  const db = new Database(job.file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  try {
    const store = await createSqliteStore({ db, migrate: false });
    return await verifyAuditLog({ store, anchors: job.anchors, ...(job.witness ? { witness: job.witness } : {}) });
  } finally {
    db.close();
  }
}

if (parentPort) {
  const port = parentPort;
  run(workerData as VerifyJob).then(
    (result) => port.postMessage({ ok: true, result }),
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
}
