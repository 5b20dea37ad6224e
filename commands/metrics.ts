import { z } from 'zod';
import { defineGroup, defineSubcommand } from '../src/framework/define-command.js';
import type { CommandServices } from '../src/framework/command-context.js';
import { runbooksOf } from '../src/framework/services/runbooks.js';
import { probeLatency, promRange } from '../src/engine/observe/read-metrics.js';
import { formatValue, renderLineChart, seriesStats } from '../src/framework/render/render-line-chart.js';
import { notFound, UserError, usage } from '../src/user-error.js';
import { formatDuration, parseDuration } from '../src/util/duration.js';
import { opt } from '../src/framework/define-command.js';

const targetCluster = (a: { target: string }, { services }: { services?: CommandServices }) => {
  const config = services?.runbooks?.config;
  return config?.services[a.target]?.cluster ?? (config && Object.hasOwn(config.clusters, a.target) ? a.target : undefined);
};

export default defineGroup({
  name: 'metrics',
  summary: 'A chart of a service or cluster metric: from Prometheus, or infrabot\'s own probe latencies.',
  defaultSubcommand: 'metrics',
  subcommands: [
    defineSubcommand({
      name: 'metrics',
      summary: 'Chart a metric (cpu, memory, latency, errors or one from the config) with min/avg/max/last.',
      options: z.object({
        target: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a service or cluster name').describe('Service or cluster'),
        metric: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'metric names are lower-case letters, digits, dashes and underscores').default('latency').describe('cpu, memory, latency, errors or a name from the config (default latency)'),
        since: opt.duration('Period up to now, e.g. 6h (at most 30d)').default('6h'),
      }),
      positionals: ['target', 'metric'],
      role: 'viewer',
      clusterOf: targetCluster,
      examples: ['metrics shop cpu', 'metrics api latency --since 24h'],
      data: z.object({
        target: z.string(),
        metric: z.string(),
        source: z.enum(['prometheus', 'probes']),
        unit: z.string(),
        from: z.string(),
        to: z.string(),
        stats: z.object({ min: z.number(), avg: z.number(), max: z.number(), last: z.number() }).nullable(),
      }),
      handler: async (a, ctx) => {
        const config = runbooksOf(ctx).config;
        const ms = parseDuration(a.since);
        if (!ms || ms > 30 * 86_400_000) throw usage(`--since takes a duration up to 30d such as 6h, not "${a.since}".`);
        const svc = config.services[a.target];
        if (!svc && !Object.hasOwn(config.clusters, a.target)) throw notFound(`No service or cluster named "${a.target}".`);
        const to = ctx.now();
        const from = new Date(to.getTime() - ms);
        const q = svc?.metrics?.queries[a.metric];
        let source: 'prometheus' | 'probes';
        let unit: string;
        let series;
        if (svc?.metrics && q) {
          source = 'prometheus';
          const query = typeof q === 'string' ? q : q.query;
          unit = typeof q === 'string' ? '' : q.unit;
          series = await promRange(svc.metrics.prometheus, query, from, to);
        } else if (a.metric === 'latency') {
          const health = ctx.services?.health?.health;
          if (!health) throw new UserError('infra_invalid_state', 'Probe history is not available in this process.');
          const checks = svc ? (svc.checks.length ? svc.checks : config.clusters[svc.cluster]!.checks.map((c) => c.name)) : config.clusters[a.target]!.checks.map((c) => c.name);
          if (!checks.length) throw new UserError('infra_invalid_state', `${a.target} has no health checks, so there is no probe latency to chart.`);
          source = 'probes';
          unit = 'ms';
          series = await probeLatency(health, checks, from);
        } else {
          const known = ['latency', ...Object.keys(svc?.metrics?.queries ?? {})];
          throw usage(`${a.target} has no metric "${a.metric}"; it has ${known.join(', ')}. Add PromQL under services.<name>.metrics.queries (docs/runbooks.md).`);
        }
        const title = `${a.target} ${a.metric}${unit ? ` (${unit})` : ''}, last ${formatDuration(ms)}`;
        const png = renderLineChart(series, { title, unit, from: from.getTime(), to: to.getTime() });
        const stats = seriesStats(series) ?? null;
        const u = unit ? ` ${unit}` : '';
        return {
          title: `📈 ${title}`,
          text: stats ? `min ${formatValue(stats.min)}${u} · avg ${formatValue(stats.avg)}${u} · max ${formatValue(stats.max)}${u} · last ${formatValue(stats.last)}${u}` : 'No data in this period.',
          attachments: [{ filename: `${a.target}-${a.metric}.png`, contentType: 'image/png', content: png.toString('base64'), encoding: 'base64' }],
          data: { target: a.target, metric: a.metric, source, unit, from: from.toISOString(), to: to.toISOString(), stats },
        };
      },
    }),
  ],
});
