import { existsSync } from 'node:fs';
import type { Registry } from '../framework/registry.js';
import type { ApiKeyStore } from '../store/api-key-store.js';
import type { AuditRecord } from './audit-record.js';
import type { Store } from '../store/store.js';
import type { Checkpointer } from './checkpointer.js';
import { buildAuditReport, type AuditReport } from './compliance-report.js';
import type { SigningKey } from './signing-key.js';
import type { OffLoopReads } from './read-off-loop.js';
import { verifyAuditLog, type AuditVerification } from './verify-audit-log.js';
import { readWitness, type WitnessContents } from './witness-file.js';

declare module '../framework/command-context.js' {
  interface CommandServices {
    audit?: AuditService;
  }
}

/** The most records one report reads; a longer period is reported as truncated. */
export const REPORT_MAX_RECORDS = 100_000;

/** Verification and reports for commands and the CLI, with the key and witness this process was given. */
export interface AuditService {
  readonly key: SigningKey;
  readonly witnessFile: string;
  readonly checkpointer: Checkpointer;
  /** Full verification against `witnessFile` (default: the configured checkpoint file, when it exists). */
  verify(opts?: { witnessFile?: string; pubkeys?: readonly string[] }): Promise<AuditVerification>;
  report(opts: { since: Date; until: Date; cluster?: string }): Promise<AuditReport>;
}

/** Does a command's --cluster option (one name, or a comma-separated list for API keys) name this cluster? */
const scopedTo = (option: unknown, cluster: string) => typeof option === 'string' && option.split(',').some((c) => c.trim() === cluster);

export function createAuditService(deps: {
  store: Store;
  registry: Registry;
  key: SigningKey;
  witnessFile: string;
  trustedKeys: readonly string[];
  checkpointer: Checkpointer;
  /** For the role of a revoked API key in reports; absent where keys are not stored. */
  apiKeys?: ApiKeyStore;
  /**
   * Runs verification and the report's reads off the event loop (a worker thread on its own connection), so
   * chat acks never wait behind a long chain; without it (an in-memory store) they run here.
   */
  offLoop?: OffLoopReads;
}): AuditService {
  const service: AuditService = {
    key: deps.key,
    witnessFile: deps.witnessFile,
    checkpointer: deps.checkpointer,
    async verify(opts = {}) {
      const file = opts.witnessFile ?? (existsSync(deps.witnessFile) ? deps.witnessFile : undefined);
      let contents: WitnessContents | undefined;
      let unreadable: string | undefined;
      try {
        contents = file ? readWitness(file) : undefined;
      } catch (err) {
        unreadable = (err as Error).message; // verified without it, and said so
      }
      const job = {
        anchors: [deps.key.publicKey, ...deps.trustedKeys, ...(opts.pubkeys ?? [])],
        ...(file && contents ? { witness: { source: file, contents } } : {}),
      };
      const v = deps.offLoop ? await deps.offLoop.verify(job) : await verifyAuditLog({ store: deps.store, ...job });
      return unreadable ? { ...v, ok: false, findings: [{ message: unreadable }, ...v.findings] } : v;
    },
    async report({ since, until, cluster }) {
      const period = { since: since.toISOString(), until: until.toISOString(), limit: REPORT_MAX_RECORDS + 1 };
      // Records without this cluster as theirs that still concern it: the global kill-switch stopped its
      // traffic too, and role grants and API keys scoped to it decide who may act on it.
      const related = cluster ? ['killswitch', 'role', 'apikey'] : [];
      const queries = [{ ...period, ...(cluster ? { cluster } : {}) }, ...related.map((command) => ({ ...period, command }))];
      const [newestFirst = [], ...more] = deps.offLoop
        ? await deps.offLoop.searchAudit(queries)
        : await Promise.all(queries.map((q) => deps.store.searchAudit(q)));
      const keys = await deps.apiKeys?.list();
      if (cluster) {
        const scopedKeys = new Set((keys ?? []).filter((k) => k.clusters?.includes(cluster)).flatMap((k) => [k.id, k.name]));
        related.forEach((command, i) => {
          const concerns = (r: AuditRecord) =>
            command === 'killswitch' || scopedTo(r.args?.cluster, cluster) || (r.command === 'apikey revoke' && scopedKeys.has(String(r.args?.key)));
          newestFirst.push(...(more[i] ?? []).filter((r) => !r.cluster && concerns(r)));
        });
        newestFirst.sort((a, b) => (a.at === b.at ? b.id - a.id : a.at < b.at ? 1 : -1));
      }
      const records = newestFirst.slice(0, REPORT_MAX_RECORDS).reverse();
      return buildAuditReport({
        records,
        registry: deps.registry,
        verification: await service.verify(),
        since: since.toISOString(),
        until: until.toISOString(),
        ...(cluster ? { cluster } : {}),
        truncated: newestFirst.length > REPORT_MAX_RECORDS,
        ...(keys ? { apiKeys: keys } : {}),
      });
    },
  };
  return service;
}
