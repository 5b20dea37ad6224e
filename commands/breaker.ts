import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { describeImpact } from '../src/engine/control-services.js';
import { breakerIcon, describeChange } from '../src/engine/describe-state.js';
import { breakerData, changed, toClusterData } from '../src/engine/state-data.js';
import type { CommandContext } from '../src/framework/command-context.js';

const clusterBreaker = breakerData.extend({ cluster: z.string() });
const switched = z.object({ changed, breaker: clusterBreaker });
/** The breaker as this command leaves it. */
const after = (name: string, { engine, change }: CommandContext) => ({ cluster: name, ...toClusterData(engine.cluster(change.state, name), change.state.killSwitch.on).breaker });

export default defineGroup({
  name: 'breaker',
  summary: 'Show, trip or reset a cluster\'s circuit breaker.',
  subcommands: [
    defineSubcommand({
      name: 'show',
      summary: 'Show breaker state: closed (normal), open (refusing), half-open (letting trial traffic through after the cool-down).',
      options: z.object({ cluster: opt.cluster('Only this cluster').optional() }),
      positionals: ['cluster'],
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      examples: ['breaker show', 'breaker show api'],
      data: z.object({ breakers: z.array(clusterBreaker) }),
      handler: ({ cluster }, { engine, state }) => {
        const clusters = cluster ? [engine.cluster(state, cluster)] : engine.clusters(state);
        return {
          title: cluster ? `Breaker of ${cluster}` : 'Breakers',
          table: {
            columns: ['cluster', 'breaker', 'cool-down', 'last change'],
            rows: clusters.map((c) => [c.name, breakerIcon[c.breakerView], c.breakerCooldown, describeChange(c.breaker.change).trim() || '-']),
          },
          data: { breakers: clusters.map((c) => ({ cluster: c.name, ...toClusterData(c, state.killSwitch.on).breaker })) },
        };
      },
    }),
    defineSubcommand({
      name: 'trip',
      summary: 'Open the breaker now: the cluster refuses traffic until the cool-down, then lets trial traffic through.',
      options: z.object({ cluster: opt.cluster(), reason: opt.reason().optional() }),
      positionals: ['cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      dangerous: (a) => `Tripping the breaker of ${a.cluster} makes it refuse traffic until the cool-down passes.`,
      impact: (a, { services }) => describeImpact(services?.control, `tripping the breaker of ${a.cluster}`, [a.cluster]),
      examples: ['breaker trip api --reason "upstream timeouts" --yes'],
      data: switched,
      handler: ({ cluster, reason }, ctx) => {
        const cooldown = ctx.engine.cluster(ctx.state, cluster).breakerCooldown;
        if (!ctx.change.tripBreaker(cluster, reason)) return { title: `Breaker of ${cluster} is already open`, text: 'Nothing changed.', data: { changed: false, breaker: after(cluster, ctx) } };
        return { title: `🔴 Breaker of ${cluster} tripped`, text: `Open now; half-open after ${cooldown}. Reset it with \`breaker reset ${cluster}\`.`, severity: 'warning', data: { changed: true, breaker: after(cluster, ctx) } };
      },
    }),
    defineSubcommand({
      name: 'reset',
      summary: 'Close the breaker: normal traffic resumes.',
      options: z.object({ cluster: opt.cluster() }),
      positionals: ['cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['breaker reset api'],
      data: switched,
      handler: ({ cluster }, ctx) => {
        if (!ctx.change.resetBreaker(cluster)) return { title: `Breaker of ${cluster} is already closed`, text: 'Nothing changed.', data: { changed: false, breaker: after(cluster, ctx) } };
        return { title: `🟢 Breaker of ${cluster} reset`, text: 'Closed: normal traffic resumes.', data: { changed: true, breaker: after(cluster, ctx) } };
      },
    }),
  ],
});
