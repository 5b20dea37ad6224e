import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { describeImpact } from '../src/engine/control-services.js';
import { breakerIcon, describeChange } from '../src/engine/describe-state.js';

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
      handler: ({ cluster }, { engine, state }) => {
        const clusters = cluster ? [engine.cluster(state, cluster)] : engine.clusters(state);
        return {
          title: cluster ? `Breaker of ${cluster}` : 'Breakers',
          table: {
            columns: ['cluster', 'breaker', 'cool-down', 'last change'],
            rows: clusters.map((c) => [c.name, breakerIcon[c.breakerView], c.breakerCooldown, describeChange(c.breaker.change).trim() || '-']),
          },
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
      impact: (a, { services }) => describeImpact(services, `tripping the breaker of ${a.cluster}`, [a.cluster]),
      examples: ['breaker trip api --reason "upstream timeouts" --yes'],
      handler: ({ cluster, reason }, { change, engine, state }) => {
        const cooldown = engine.cluster(state, cluster).breakerCooldown;
        if (!change.tripBreaker(cluster, reason)) return { title: `Breaker of ${cluster} is already open`, text: 'Nothing changed.' };
        return { title: `🔴 Breaker of ${cluster} tripped`, text: `Open now; half-open after ${cooldown}. Reset it with \`breaker reset ${cluster}\`.`, severity: 'warning' };
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
      handler: ({ cluster }, { change }) => {
        if (!change.resetBreaker(cluster)) return { title: `Breaker of ${cluster} is already closed`, text: 'Nothing changed.' };
        return { title: `🟢 Breaker of ${cluster} reset`, text: 'Closed: normal traffic resumes.' };
      },
    }),
  ],
});
