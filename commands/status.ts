import { z } from 'zod';
import type { CommandContext } from '../src/framework/command-context.js';
import type { ReplyField } from '../src/framework/reply.js';
import { formatDuration } from '../src/util/duration.js';
import { formatTime } from '../src/util/format-time.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { describeControlChannel } from '../src/engine/describe-control-channel.js';
import { CLUSTER_COLUMNS, clusterRow, describeChange, describeLimits, describeTraffic, breakerIcon } from '../src/engine/describe-state.js';
import { controlData, toControlData } from '../src/engine/state-data.js';

/** Time-limited actions still to revert (of the clusters the user may see), as one field: what, when, by whom. */
async function pendingReverts(ctx: CommandContext, cluster: string | undefined): Promise<ReplyField[]> {
  const store = ctx.services?.schedules?.store;
  if (!store) return [];
  const now = ctx.now().getTime();
  const lines = (await store.list({ kind: 'revert', statuses: ['active'] }))
    .filter((s) => s.guard && (cluster ? s.guard.scope === cluster || s.guard.scope === 'global' : ctx.canSee(s.guard.scope === 'global' ? undefined : s.guard.scope)))
    .map((s) => `⏲️ \`${s.command.replace(/ --reason .*$/, '')}\` at ${formatTime(s.nextFireAt)} (in ${formatDuration(Date.parse(s.nextFireAt ?? '') - now)}; set by ${s.authorName}; revert ${s.id})`);
  return lines.length ? [{ name: 'Reverts automatically', value: lines.join('\n') }] : [];
}

export default defineGroup({
  name: 'status',
  summary: 'Kill-switch, clusters, breakers and rate limits at a glance.',
  defaultSubcommand: 'status',
  subcommands: [
    defineSubcommand({
      name: 'status',
      summary: 'Show the control state of every cluster (those you may see), or of one.',
      options: z.object({ cluster: opt.cluster('Only this cluster').optional() }),
      positionals: ['cluster'],
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['status', 'status api'],
      data: controlData.describe('The control state of the clusters the caller may see; with a cluster named, only that one'),
      handler: async ({ cluster }, ctx) => {
        const { engine, state, canSee, visibleClusters, services } = ctx;
        const reverts = await pendingReverts(ctx, cluster);
        const channel = await describeControlChannel(services);
        const live = (name: string) => (channel.live ? [{ name: 'Live traffic', value: channel.live(name) }] : []);
        const ks = state.killSwitch;
        const ksLine = ks.on
          ? `🛑 Global kill-switch is ON${describeChange(ks.change)}: every cluster refuses traffic, whatever its own switch says.`
          : '✅ Global kill-switch is off.';
        if (cluster) {
          const c = engine.cluster(state, cluster);
          return {
            title: `${ks.on ? '🛑 ' : ''}Cluster ${c.name}${c.description ? ` (${c.description})` : ''}${ks.on ? ': traffic refused by the kill-switch' : ''}`,
            severity: ks.on ? 'critical' : !c.enabled || c.breakerView === 'open' ? 'warning' : 'info',
            text: [ksLine, channel.line].filter(Boolean).join('\n'),
            fields: [
              { name: 'Traffic', value: `${describeTraffic(c, ks.on)}${describeChange(c.change)}` },
              { name: 'Breaker', value: `${breakerIcon[c.breakerView]}${describeChange(c.breaker.change)} · cool-down ${c.breakerCooldown}` },
              { name: 'Rate limits', value: describeLimits(c.rateLimits) },
              ...live(c.name),
              ...reverts,
            ],
            data: toControlData(engine, state, [c]),
          };
        }
        const clusters = engine.clusters(state).filter((c) => canSee(c.name));
        const troubled = clusters.filter((c) => !c.enabled || c.breakerView !== 'closed');
        const scope = visibleClusters ? ` (the ${clusters.length} you have a role on)` : '';
        const summary = ks.on
          ? `All ${clusters.length} clusters${scope} refuse traffic.`
          : troubled.length
            ? `${troubled.length} of ${clusters.length} clusters${scope} need attention.`
            : `All ${clusters.length} clusters${scope} enabled with closed breakers.`;
        return {
          title: ks.on ? '🛑 Kill-switch ON: all traffic refused' : 'infrabot status',
          severity: ks.on ? 'critical' : troubled.length ? 'warning' : 'info',
          text: [ksLine, summary, channel.line].filter(Boolean).join('\n'),
          table: channel.live
            ? { columns: [...CLUSTER_COLUMNS, 'live traffic'], rows: clusters.map((c) => [...clusterRow(c, ks.on), channel.live!(c.name)]) }
            : { columns: CLUSTER_COLUMNS, rows: clusters.map((c) => clusterRow(c, ks.on)) },
          ...(reverts.length ? { fields: reverts } : {}),
          data: toControlData(engine, state, clusters),
        };
      },
    }),
  ],
});
