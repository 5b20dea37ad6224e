import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { describeImpact } from '../src/engine/control-services.js';
import { CLUSTER_COLUMNS, clusterRow, describeChange } from '../src/engine/describe-state.js';
import { checkTimeLimit, revertIfLimited, timeLimitOptions } from '../src/framework/services/schedules.js';
import { changed, clusterData, toClusterData } from '../src/engine/state-data.js';
import type { CommandContext } from '../src/framework/command-context.js';

const switched = z.object({ changed, cluster: clusterData });
/** The cluster as this command leaves it. */
const after = (name: string, { engine, change }: CommandContext) => toClusterData(engine.cluster(change.state, name), change.state.killSwitch.on);

export default defineGroup({
  name: 'cluster',
  summary: 'List clusters, or enable and disable traffic to one.',
  subcommands: [
    defineSubcommand({
      name: 'list',
      summary: 'List clusters with their traffic, breaker and rate-limit state.',
      options: z.object({}),
      role: 'viewer',
      listsClusters: true,
      examples: ['cluster list'],
      data: z.object({ clusters: z.array(clusterData) }),
      handler: (_a, { engine, state, canSee }) => {
        const clusters = engine.clusters(state).filter((c) => canSee(c.name));
        return {
          title: `${clusters.length} clusters`,
          table: { columns: [...CLUSTER_COLUMNS, 'description'], rows: clusters.map((c) => [...clusterRow(c, state.killSwitch.on), c.description]) },
          data: { clusters: clusters.map((c) => toClusterData(c, state.killSwitch.on)) },
        };
      },
    }),
    defineSubcommand({
      name: 'enable',
      summary: 'Let a disabled cluster serve traffic again.',
      options: z.object({ cluster: opt.cluster(), reason: opt.reason().optional() }),
      positionals: ['cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['cluster enable api --reason "rollback finished"'],
      data: switched,
      handler: ({ cluster, reason }, ctx) => {
        const { change, state, engine } = ctx;
        if (!change.setClusterEnabled(cluster, true, reason)) {
          return { title: `${cluster} was already enabled`, text: `Nothing changed${describeChange(engine.cluster(state, cluster).change)}.`, data: { changed: false, cluster: after(cluster, ctx) } };
        }
        return { title: `🟢 Cluster ${cluster} enabled`, text: reason ? `Reason: ${reason}` : 'Traffic is flowing again.', data: { changed: true, cluster: after(cluster, ctx) } };
      },
    }),
    defineSubcommand({
      name: 'disable',
      summary: 'Stop all traffic to one cluster.',
      options: z.object({ cluster: opt.cluster(), reason: opt.reason(), ...timeLimitOptions }),
      positionals: ['cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      dangerous: (a) => `Disabling cluster ${a.cluster} makes it refuse all traffic${a.for ? ` for ${a.for}` : a.until ? ` until ${a.until}` : ''}.`,
      impact: (a, { services }) => describeImpact(services?.control, `disabling ${a.cluster}`, [a.cluster]),
      examples: ['cluster disable api --reason "bad deploy, rolling back" --yes', 'cluster disable api --for 30m --reason "failover drill" --yes'],
      data: switched,
      handler: (a, ctx) => {
        const { change, state, engine } = ctx;
        const { cluster, reason } = a;
        checkTimeLimit(ctx, a);
        if (!change.setClusterEnabled(cluster, false, reason)) {
          return { title: `${cluster} was already disabled`, text: `Nothing changed${describeChange(engine.cluster(state, cluster).change)}.`, data: { changed: false, cluster: after(cluster, ctx) } };
        }
        const revert = revertIfLimited(ctx, a, {
          command: (why) => `cluster enable ${cluster} --reason "${why}"`,
          guard: { scope: cluster, types: ['cluster.enabled', 'cluster.disabled'] },
          what: `${cluster} is enabled again`,
        });
        return { title: `🔴 Cluster ${cluster} disabled`, text: `It refuses all traffic until enabled. Reason: ${reason}${revert ? `\n${revert}` : ''}`, severity: 'warning', data: { changed: true, cluster: after(cluster, ctx) } };
      },
    }),
  ],
});
