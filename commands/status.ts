import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { CLUSTER_COLUMNS, clusterRow, describeChange, describeLimits, breakerIcon } from '../src/engine/describe-state.js';

export default defineGroup({
  name: 'status',
  summary: 'Kill-switch, clusters, breakers and rate limits at a glance.',
  defaultSubcommand: 'status',
  subcommands: [
    defineSubcommand({
      name: 'status',
      summary: 'Show the control state of every cluster, or of one.',
      options: z.object({ cluster: opt.cluster('Only this cluster').optional() }),
      positionals: ['cluster'],
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      examples: ['status', 'status api'],
      handler: ({ cluster }, { engine, state }) => {
        const ks = state.killSwitch;
        const ksLine = ks.on
          ? `🛑 Global kill-switch is ON${describeChange(ks.change)}: all clusters refuse traffic.`
          : '✅ Global kill-switch is off.';
        if (cluster) {
          const c = engine.cluster(state, cluster);
          return {
            title: `Cluster ${c.name}${c.description ? ` (${c.description})` : ''}`,
            severity: ks.on || !c.enabled || c.breakerView === 'open' ? 'warning' : 'info',
            text: ksLine,
            fields: [
              { name: 'Traffic', value: `${c.enabled ? '🟢 enabled' : '🔴 disabled'}${describeChange(c.change)}` },
              { name: 'Breaker', value: `${breakerIcon[c.breakerView]}${describeChange(c.breaker.change)} · cool-down ${c.breakerCooldown}` },
              { name: 'Rate limits', value: describeLimits(c.rateLimits) },
            ],
          };
        }
        const clusters = engine.clusters(state);
        const troubled = clusters.filter((c) => !c.enabled || c.breakerView !== 'closed');
        return {
          title: 'infrabot status',
          severity: ks.on ? 'critical' : troubled.length ? 'warning' : 'info',
          text: `${ksLine}\n${troubled.length ? `${troubled.length} of ${clusters.length} clusters need attention.` : `All ${clusters.length} clusters enabled with closed breakers.`}`,
          table: { columns: CLUSTER_COLUMNS, rows: clusters.map(clusterRow) },
        };
      },
    }),
  ],
});
