import { Worker } from 'node:worker_threads';
import type { AuditQuery, AuditRecord } from './audit-record.js';
import type { ReadJob } from './read-audit-worker.js';
import type { AuditVerification, VerifyAuditOptions } from './verify-audit-log.js';

/**
 * Long audit reads requested from chat — a full verification (every record, seconds on a long chain) and a
 * compliance report's records — run in a worker thread with its own read-only connection to the SQLite file.
 * On the main thread they would hold up every Slack and Discord acknowledgement (3-second limit) behind them.
 */
export interface OffLoopReads {
  verify(opts: Omit<VerifyAuditOptions, 'store'>): Promise<AuditVerification>;
  searchAudit(queries: AuditQuery[]): Promise<AuditRecord[][]>;
}

export function sqliteReadsOffLoop(file: string): OffLoopReads {
  return {
    verify: (opts) => inWorker<AuditVerification>({ kind: 'verify', file, ...opts }),
    searchAudit: (queries) => inWorker<AuditRecord[][]>({ kind: 'searchAudit', file, queries }),
  };
}

function inWorker<T>(job: ReadJob): Promise<T> {
  const worker = startWorker(job);
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (m: { ok: true; result: T } | { ok: false; error: string }) =>
      m.ok ? resolve(m.result) : reject(new Error(`audit ${job.kind} failed: ${m.error}`)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`audit ${job.kind} worker exited (code ${code}) without an answer`)));
  });
}

function startWorker(job: ReadJob): Worker {
  const self = import.meta.url;
  if (self.endsWith('.js')) return new Worker(new URL('./read-audit-worker.js', self), { workerData: job });
  // Running from TypeScript sources (tests, tsx): loader hooks do not reach worker threads on Node 20, so the
  // worker registers tsx itself before loading the module.
  const target = new URL('./read-audit-worker.ts', self).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(boot, { eval: true, workerData: job });
}
