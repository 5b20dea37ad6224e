import { Worker } from 'node:worker_threads';
import type { AuditVerification } from './verify-audit-log.js';
import type { VerifyJob } from './verify-audit-worker.js';

/**
 * Verifies the audit log of a SQLite file in a worker thread with its own read-only connection. A full
 * verification reads every record (seconds on a long chain); on the main thread that would hold up every
 * Slack and Discord acknowledgement behind it, and those platforms give up after 3 seconds.
 */
export function verifyOffLoop(job: VerifyJob): Promise<AuditVerification> {
  const worker = startWorker(job);
  return new Promise<AuditVerification>((resolve, reject) => {
    worker.once('message', (m: { ok: true; result: AuditVerification } | { ok: false; error: string }) =>
      m.ok ? resolve(m.result) : reject(new Error(`audit verification failed: ${m.error}`)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`audit verification worker exited (code ${code}) without an answer`)));
  });
}

function startWorker(job: VerifyJob): Worker {
  const self = import.meta.url;
  if (self.endsWith('.js')) return new Worker(new URL('./verify-audit-worker.js', self), { workerData: job });
  // Running from TypeScript sources (tests, tsx): loader hooks do not reach worker threads on Node 20, so the
  // worker registers tsx itself before loading the module.
  const target = new URL('./verify-audit-worker.ts', self).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(target)}); })`;
  return new Worker(boot, { eval: true, workerData: job });
}
