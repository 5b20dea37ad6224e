import { z } from 'zod';
import { billingOf } from '../src/framework/services/billing.js';
import { computeCosts, costDataSince } from '../src/engine/billing/compute-costs.js';
import { renderCostChart } from '../src/framework/render/render-cost-chart.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import { parseDuration } from '../src/util/duration.js';
import { quoteForMessage } from '../src/util/quote-for-message.js';

const MAX_PERIOD_MS = 366 * 86_400_000;
const fmt = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const costsData = z.object({
  since: z.string(),
  until: z.string(),
  currency: z.string(),
  otherCurrencies: z.array(z.string()).describe('Currencies that also had spend, left out of the totals'),
  total: z.number(),
  by: z.enum(['cluster', 'team', 'action']),
  groups: z.array(z.object({ key: z.string(), amount: z.number(), count: z.number().int() })),
  days: z.array(z.object({ day: z.string(), amount: z.number() })).describe('What the chart shows'),
  forecast: z.object({
    periodEnd: z.string().describe('End of the forecast period: the start of next month (UTC)'),
    monthToDate: z.number(),
    monthTotal: z.number().describe('Month to date plus the forecast of the remaining days'),
    model: z.literal('holt-linear'),
    alpha: z.number(),
    beta: z.number(),
    historyDays: z.number().int(),
    mape: z.number().nullable().describe('Mean absolute percentage error of one-day-ahead forecasts on the history'),
    mae: z.number().nullable().describe('Mean absolute error per day on the history, in the currency'),
  }),
});

export default defineGroup({
  name: 'costs',
  summary: 'Spend of billable actions with a chart and a forecast to the end of the month.',
  defaultSubcommand: 'show',
  subcommands: [
    defineSubcommand({
      name: 'show',
      summary: 'Show spend over a period (default 30d) by cluster, team or action, with a chart and a month-end forecast.',
      options: z.object({
        cluster: opt.cluster('Only this cluster').optional(),
        since: opt.duration('How far back, e.g. 7d or 30d (at most 366d)').default('30d'),
        by: z.enum(['cluster', 'team', 'action']).default('cluster').describe('Group spend by'),
      }),
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['costs', 'costs --since 7d --by action', 'costs --cluster api --by action', 'costs --by team'],
      data: costsData,
      handler: async (a, ctx) => {
        const ms = parseDuration(a.since);
        if (!ms || ms > MAX_PERIOD_MS) throw usage(`--since takes a duration up to 366d such as 7d or 30d, not ${quoteForMessage(a.since)}.`);
        if (a.cluster) ctx.engine.cluster(ctx.state, a.cluster);
        const until = ctx.now();
        const since = new Date(until.getTime() - ms);
        const clusters = a.cluster ? undefined : Object.keys(ctx.state.clusters).filter((c) => ctx.canSee(c));
        const fitSince = costDataSince(since, until);
        const rows = await billingOf(ctx).costs({ since: fitSince, until, ...(a.cluster ? { cluster: a.cluster } : {}), ...(clusters ? { clusters } : {}) });
        const r = computeCosts(rows, { since, until, fitSince, by: a.by, defaultCurrency: ctx.engine.config.billing.currency });
        const budget = a.cluster ? ctx.state.budgets?.[`cluster:${a.cluster}`] : undefined;
        const f = r.forecast;
        const chart = renderCostChart({
          title: `Spend per day (${r.currency})${a.cluster ? ` · ${a.cluster}` : ''} · last ${a.since} and forecast to month end`,
          days: [...r.days, ...f.days.map((amount, i) => ({ day: new Date(Date.parse(r.days.at(-1)!.day) + (i + 1) * 86_400_000).toISOString(), amount, forecast: true }))],
          ...(budget?.daily ? { dailyBudget: budget.daily } : {}),
        });
        const error = f.mape !== undefined
          ? `one-day-ahead error on the last ${f.historyDays} days: ${(f.mape * 100).toFixed(1)}% (±${fmt(f.mae ?? 0)} ${r.currency} a day)`
          : `only ${f.historyDays} complete day(s) of history: treat it as a rough guess`;
        return {
          title: `💰 Spend${a.cluster ? ` of ${a.cluster}` : ''} · last ${a.since}: ${fmt(r.total)} ${r.currency}`,
          text: `Month so far ${fmt(f.monthToDate)} ${r.currency}; forecast for the whole month ${fmt(f.monthTotal)} ${r.currency}.`,
          table: { columns: [a.by, r.currency, 'actions'], rows: r.groups.map((g) => [g.key, fmt(g.amount), g.count.toLocaleString('en-US')]) },
          fields: [
            { name: 'Forecast model', value: `Holt's linear trend (α ${f.alpha}, β ${f.beta}) on complete days; ${error}.` },
            ...(r.otherCurrencies.length ? [{ name: 'Not included', value: `Spend in ${r.otherCurrencies.join(', ')} (shown per currency only in --json).` }] : []),
          ],
          attachments: [{ filename: `costs-${r.until.slice(0, 10)}.png`, contentType: 'image/png', content: chart.toString('base64'), encoding: 'base64' }],
          data: {
            since: r.since, until: r.until, currency: r.currency, otherCurrencies: r.otherCurrencies, total: r.total, by: r.by, groups: r.groups, days: r.days,
            forecast: { periodEnd: f.periodEnd, monthToDate: f.monthToDate, monthTotal: f.monthTotal, model: 'holt-linear' as const, alpha: f.alpha, beta: f.beta, historyDays: f.historyDays, mape: f.mape ?? null, mae: f.mae ?? null },
          },
        };
      },
    }),
  ],
});
