import { z } from 'zod';
import { describeBudget } from '../src/engine/control-events.js';
import { billingOf } from '../src/framework/services/billing.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';

const money = z.number().min(0).max(1_000_000_000);
const pct = (spent: number, limit?: number) => (limit ? `${Math.round((spent / limit) * 100)}%` : '—');
const fmt = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const budgetData = z.object({
  subject: z.string().describe('`cluster:<name>` or `team:<name>`'),
  clusters: z.array(z.string()),
  daily: z.number().nullable(),
  monthly: z.number().nullable(),
  currency: z.string(),
  spentToday: z.number(),
  spentThisMonth: z.number(),
});

export default defineGroup({
  name: 'budget',
  summary: 'Set and list spending budgets of clusters and teams (alerts at thresholds, optional throttling).',
  subcommands: [
    defineSubcommand({
      name: 'set',
      summary: 'Set the daily and/or monthly budget of a cluster or a team (0 removes a window).',
      options: z
        .object({
          subject: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a cluster or team name: lower-case letters, digits and dashes').describe('Cluster, or team with --team'),
          team: z.boolean().default(false).describe('The subject is a team (the clusters with that `team` in the config)'),
          daily: money.optional().describe('Budget per UTC day'),
          monthly: money.optional().describe('Budget per calendar month (UTC)'),
          currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD').optional().describe('Currency (default: billing.currency of the config)'),
        })
        .refine((a) => a.daily !== undefined || a.monthly !== undefined, { message: 'give --daily, --monthly or both', params: { oneOf: ['daily', 'monthly'] } }),
      positionals: ['subject'],
      role: 'admin',
      // A cluster's admins may budget it; team budgets span clusters and need a global admin.
      clusterOf: (a) => (a.team ? undefined : a.subject),
      mutates: true,
      examples: ['budget set api --daily 50 --monthly 1000 --currency USD', 'budget set payments --team --monthly 5000', 'budget set api --daily 0'],
      data: z.object({ subject: z.string(), changed: z.boolean(), daily: z.number().nullable(), monthly: z.number().nullable(), currency: z.string() }),
      handler: (a, { change, engine, state }) => {
        const key = a.team ? `team:${a.subject}` : `cluster:${a.subject}`;
        const old = state.budgets?.[key];
        const currency = a.currency ?? old?.currency ?? engine.config.billing.currency;
        if (old && old.currency !== currency && (a.daily === undefined || a.monthly === undefined) && (old.daily || old.monthly)) {
          throw usage(`The budget of ${a.subject} is in ${old.currency}; to change its currency give both --daily and --monthly in ${currency}.`);
        }
        const b = { daily: a.daily ?? old?.daily ?? 0, monthly: a.monthly ?? old?.monthly ?? 0, currency };
        const changed = change.setBudget(a.team ? { team: a.subject } : { cluster: a.subject }, b);
        return {
          title: `Budget of ${a.team ? 'team' : 'cluster'} ${a.subject}${changed ? '' : ' unchanged'}`,
          text: describeBudget(b),
          fields: [{ name: 'Alerts at', value: engine.config.billing.thresholds.map((t) => `${Math.round(t * 100)}%`).join(', ') }],
          data: { subject: key, changed, daily: b.daily || null, monthly: b.monthly || null, currency },
        };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'List budgets with what was spent today and this month.',
      options: z.object({}),
      role: 'viewer',
      listsClusters: true,
      examples: ['budget list'],
      data: z.object({ budgets: z.array(budgetData) }),
      handler: async (_a, ctx) => {
        const rows = (await billingOf(ctx).spend(ctx.state)).filter((s) => s.clusters.some((c) => ctx.canSee(c)));
        return {
          title: rows.length ? 'Budgets' : 'No budgets set',
          ...(rows.length ? {} : { text: 'Set one with `budget set <cluster> --daily 50 --monthly 1000`.' }),
          table: {
            columns: ['budget', 'today', 'this month', 'limits'],
            rows: rows.map((s) => [
              s.subject.replace(':', ' '),
              `${fmt(s.day)} (${pct(s.day, s.budget.daily)})`,
              `${fmt(s.month)} (${pct(s.month, s.budget.monthly)})`,
              describeBudget(s.budget),
            ]),
          },
          data: {
            budgets: rows.map((s) => ({ subject: s.subject, clusters: s.clusters, daily: s.budget.daily ?? null, monthly: s.budget.monthly ?? null, currency: s.budget.currency, spentToday: s.day, spentThisMonth: s.month })),
          },
        };
      },
    }),
  ],
});
