import { z } from 'zod';
import { defineGroup, defineSubcommand, opt, TEXT_LIMITS } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import { parseTimeRef } from '../src/util/duration.js';

export default defineGroup({
  name: 'audit',
  summary: 'Search the tamper-evident audit log, or verify its hash chain.',
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
        };
      },
    }),
    defineSubcommand({
      name: 'verify',
      summary: 'Check that no audit record was changed, deleted or reordered.',
      options: z.object({}),
      role: 'admin',
      examples: ['audit verify'],
      handler: async (_a, { store }) => {
        const result = await store.verifyAudit();
        if (result.ok) return { title: '✅ Audit chain intact', text: `${result.count.toLocaleString('en-US')} records verified.`, severity: 'success' };
        return {
          title: '❌ Audit chain broken',
          text: `Record ${result.firstBad} fails: ${result.problem}. ${result.count} records before it are intact.`,
          severity: 'critical',
          outcome: 'failed',
        };
      },
    }),
  ],
});
