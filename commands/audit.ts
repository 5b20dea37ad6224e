import { z } from 'zod';
import '../src/audit/audit-service.js';
import { describeVerified, type AuditVerification } from '../src/audit/verify-audit-log.js';
import { defineGroup, defineSubcommand, opt, TEXT_LIMITS } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import { parseTimeRef } from '../src/util/duration.js';
import { isoTime } from '../src/framework/render/state-data.js';
import { plural } from '../src/util/plural.js';

export const auditRecordData = z.object({
  id: z.number().int(),
  at: isoTime,
  platform: z.string(),
  userId: z.string(),
  userName: z.string(),
  channel: z.string().nullable(),
  rawText: z.string().describe('What was typed (or the command line an HTTP call stands for)'),
  command: z.string().nullable(),
  cluster: z.string().nullable(),
  outcome: z.enum(['ok', 'denied', 'invalid', 'failed', 'confirm', 'duplicate']),
  error: z.string().nullable(),
  traceId: z.string(),
});

/** What `audit verify` found, as data: the counts, every finding and the newest checkpoints to compare by eye. */
const verifyData = (v: AuditVerification, recent: readonly { seq: number; hash: string; lastId: number; at: string }[]) => ({
  intact: v.ok,
  records: v.records,
  checkpoints: v.checkpoints,
  witnessed: v.witnessed,
  uncovered: v.uncovered,
  findings: v.findings.map((f) => ({ firstRecord: f.firstRecord ?? null, message: f.message })),
  recentCheckpoints: recent.map((c) => ({ seq: c.seq, hash: c.hash, lastId: c.lastId, at: c.at })),
});

export default defineGroup({
  name: 'audit',
  summary: 'Search the tamper-evident audit log, verify it, or report on it.',
  defaultSubcommand: 'search',
  subcommands: [
    defineSubcommand({
      name: 'search',
      summary: 'Find audited commands, newest first.',
      options: z.object({
        user: opt.user('Only commands by this user').optional(),
        cluster: opt.cluster('Only commands on this cluster').optional(),
        action: opt.text('Only this command, e.g. "cluster disable" or "cluster"', TEXT_LIMITS.name).optional(),
        since: opt.time('From this time: ISO 8601 or relative like 24h').default('24h'),
        limit: opt.limit('At most this many records').max(200).default(20),
      }),
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['audit', 'audit --user bob --since 7d', 'audit --cluster api --action "cluster disable"'],
      data: z.object({
        since: isoTime,
        limit: z.number().int(),
        truncated: z.boolean().describe('true when the limit was reached: narrow the search or raise the limit'),
        records: z.array(auditRecordData),
      }),
      handler: async ({ user, cluster, action, since, limit }, { store, now, canSee, visibleClusters }) => {
        const from = parseTimeRef(since, now());
        if (!from) throw usage(`--since: "${since}" is not a time; use ISO 8601 or a duration like 30m, 24h, 7d.`);
        // A cluster-scoped user sees the records of their clusters: search wider, then keep theirs.
        const records = (
          await store.searchAudit({
            ...(user ? { userId: user } : {}),
            ...(cluster ? { cluster } : {}),
            ...(action ? { command: action.toLowerCase() } : {}),
            since: from.toISOString(),
            limit: visibleClusters ? 5000 : limit,
          })
        )
          .filter((r) => canSee(r.cluster))
          .slice(0, limit);
        return {
          title: `${records.length} audit record${records.length === 1 ? '' : 's'} since ${from.toISOString().slice(0, 16)}Z${records.length === limit ? ` (first ${limit}; use --limit or narrow the search)` : ''}`,
          table: {
            columns: ['#', 'time', 'user', 'command', 'outcome', 'platform'],
            rows: records.map((r) => [String(r.id), r.at.slice(0, 19).replace('T', ' '), r.userId, r.rawText.slice(0, 80), r.outcome + (r.error ? `: ${r.error.slice(0, 60)}` : ''), r.platform]),
          },
          data: {
            since: from.toISOString(),
            limit,
            truncated: records.length === limit,
            records: records.map((r) => ({
              id: r.id, at: r.at, platform: r.platform, userId: r.userId, userName: r.userName, channel: r.channel ?? null, rawText: r.rawText,
              command: r.command ?? null, cluster: r.cluster ?? null, outcome: r.outcome, error: r.error ?? null, traceId: r.traceId,
            })),
          },
        };
      },
    }),
    defineSubcommand({
      name: 'verify',
      summary: 'Check the chain, every signed checkpoint, the checkpoint file and the stored state against its events.',
      options: z.object({}),
      role: 'admin',
      examples: ['audit verify'],
      data: z.object({
        intact: z.boolean(),
        records: z.number().int().describe('The highest record id in the log'),
        checkpoints: z.number().int().describe('Signed checkpoints in the database'),
        witnessed: z.number().int().describe('Checkpoints a witness outside the database confirmed'),
        uncovered: z.number().int().describe('Records after the newest checkpoint (covered by the chain only)'),
        findings: z.array(z.object({ firstRecord: z.number().int().nullable(), message: z.string() })),
        recentCheckpoints: z.array(z.object({ seq: z.number().int(), hash: z.string(), lastId: z.number().int(), at: isoTime })).describe('Newest first: compare with the audit channel'),
      }),
      handler: async (_a, { services, store }) => {
        const audit = services?.audit;
        if (!audit) throw usage('Audit verification is not available in this process.');
        const v = await audit.verify();
        // The bot cannot read chat history back, so the chat witness is checked by people: the reply shows the
        // newest checkpoint hashes to compare with the lines posted in the audit channel (docs/audit.md).
        const recent = (await store.checkpoints()).slice(-3).reverse();
        const compare = recent.length
          ? `Compare with the audit channel: ${recent.map((c) => `#${c.seq} ${c.hash.slice(0, 16)}… (records 1–${c.lastId.toLocaleString('en-US')}, ${c.at.slice(0, 16)}Z)`).join('; ')}.`
          : 'No checkpoint has been signed yet.';
        if (v.ok) {
          return {
            title: '✅ Audit log intact',
            text: `${describeVerified(v, audit.witnessFile)}; control state matches its events. ${compare}`,
            severity: 'success',
            data: verifyData(v, recent),
          };
        }
        return {
          title: '❌ Audit log does not verify',
          text: `${plural(v.findings.length, 'problem')}:\n${v.findings.slice(0, 10).map((f) => `• ${f.firstRecord !== undefined ? `from record ${f.firstRecord}: ` : ''}${f.message}`).join('\n')}${v.findings.length > 10 ? `\n… and ${v.findings.length - 10} more (run infrabot audit verify)` : ''}\n${compare}`,
          severity: 'critical',
          outcome: 'failed',
          data: verifyData(v, recent),
        };
      },
    }),
    defineSubcommand({
      name: 'report',
      summary: 'Compliance report: who changed what, dangerous actions and confirmations, role changes, refused attempts, denials, verification (Markdown and CSV files).',
      options: z.object({
        since: opt.time('From this time: ISO 8601 or relative like 30d').default('30d'),
        cluster: opt.cluster('Only commands on this cluster').optional(),
      }),
      role: 'admin',
      clusterOf: (a) => a.cluster,
      examples: ['audit report', 'audit report --since 7d --cluster api'],
      data: z.object({
        since: isoTime,
        until: isoTime,
        cluster: z.string().nullable(),
        counts: z.object({ changes: z.number().int(), dangerous: z.number().int(), roleChanges: z.number().int(), refused: z.number().int(), denials: z.number().int() }),
        files: z.array(z.string()).describe('The attached report files (Markdown and CSV)'),
      }),
      handler: async ({ since, cluster }, { services, now }) => {
        const audit = services?.audit;
        if (!audit) throw usage('Audit reports are not available in this process.');
        const until = now();
        const from = parseTimeRef(since, until);
        if (!from) throw usage(`--since: "${since}" is not a time; use ISO 8601 or a duration like 24h, 7d, 30d.`);
        const report = await audit.report({ since: from, until, ...(cluster ? { cluster } : {}) });
        const name = `audit-report-${from.toISOString().slice(0, 10)}-${until.toISOString().slice(0, 10)}${cluster ? `-${cluster}` : ''}`;
        const c = report.counts;
        return {
          title: `Audit report since ${from.toISOString().slice(0, 16)}Z${cluster ? ` · ${cluster}` : ''}`,
          text: `${c.changes} changes, ${c.dangerous} dangerous actions and confirmations, ${c.roleChanges} role changes, ${c.refused} refused or failed attempts, ${c.denials} denials. Full report attached (Markdown and CSV).`,
          attachments: [
            { filename: `${name}.md`, contentType: 'text/markdown', content: report.markdown },
            { filename: `${name}.csv`, contentType: 'text/csv', content: report.csv },
          ],
          data: { since: from.toISOString(), until: until.toISOString(), cluster: cluster ?? null, counts: { ...c }, files: [`${name}.md`, `${name}.csv`] },
        };
      },
    }),
  ],
});
