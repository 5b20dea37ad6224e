import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { parseParams, runbooksOf, serviceCluster, startData, startRunbook } from '../src/framework/services/runbooks.js';
import { runOptions, serviceOption } from './deploy.js';

export default defineGroup({
  name: 'runbook',
  summary: 'Runbooks declared per service in the config: list them, run one by name.',
  subcommands: [
    defineSubcommand({
      name: 'run',
      summary: 'Run a named runbook of a service with parameters.',
      options: z.object({
        name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'runbook names are lower-case letters, digits, dashes and underscores').describe('Runbook name'),
        service: serviceOption(),
        param: opt.text('Parameters: key=value pairs, e.g. "version=1.4.2 region=eu"', 500).optional(),
        ...runOptions,
      }),
      positionals: ['name', 'service'],
      role: 'operator',
      clusterOf: serviceCluster,
      dangerous: (a) => (a['dry-run'] ? undefined : `Running the ${a.name} runbook of ${a.service}.`),
      examples: ['runbook run flush-cache shop', 'runbook run deploy shop --param version=1.4.2 --dry-run'],
      data: startData,
      handler: (a, ctx) => startRunbook(ctx, { service: a.service, runbook: a.name, params: parseParams(a.param), env: a.env, dryRun: a['dry-run'], force: a.force }),
    }),
    defineSubcommand({
      name: 'list',
      summary: 'Services and their runbooks, environments and parameters.',
      options: z.object({}),
      role: 'viewer',
      listsClusters: true,
      examples: ['runbook list'],
      data: z.object({ runbooks: z.array(z.object({ service: z.string(), cluster: z.string(), runbook: z.string(), steps: z.number(), envs: z.array(z.string()) })), queue: z.string() }),
      handler: (_a, ctx) => {
        const runbooks = runbooksOf(ctx);
        const rows = Object.entries(runbooks.config.services)
          .filter(([, s]) => ctx.canSee(s.cluster))
          .flatMap(([service, s]) => Object.entries(s.runbooks).map(([runbook, r]) => ({ service, cluster: s.cluster, runbook, steps: r.steps.length, envs: s.envs, description: r.description })));
        return {
          title: 'Runbooks',
          ...(rows.length
            ? { table: { columns: ['service', 'runbook', 'steps', 'envs', 'what'], rows: rows.map((r) => [r.service, r.runbook, String(r.steps), r.envs.join(', '), r.description]) } }
            : { text: 'No runbooks configured; declare them under services: in the config (docs/runbooks.md).' }),
          hint: `Runs go ${runbooks.queue?.description ?? 'nowhere (no queue)'}`,
          data: { runbooks: rows.map(({ description: _d, ...r }) => r), queue: runbooks.queue?.kind ?? 'none' },
        };
      },
    }),
  ],
});
