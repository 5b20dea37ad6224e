import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { parseParams, serviceCluster, startData, startRunbook } from '../src/framework/services/runbooks.js';
import { runOptions, serviceOption } from './deploy.js';

export default defineGroup({
  name: 'test',
  summary: 'Run a service\'s test runbook (smoke tests, end-to-end checks).',
  defaultSubcommand: 'test',
  subcommands: [
    defineSubcommand({
      name: 'test',
      summary: 'Run the test runbook of a service; progress is posted in the channel.',
      options: z.object({ service: serviceOption(), param: opt.text('Parameters: key=value pairs', 500).optional(), ...runOptions }),
      positionals: ['service'],
      role: 'operator',
      clusterOf: serviceCluster,
      examples: ['test shop', 'test shop --env staging'],
      data: startData,
      handler: (a, ctx) => startRunbook(ctx, { service: a.service, runbook: 'test', params: parseParams(a.param), env: a.env, dryRun: a['dry-run'], force: a.force }),
    }),
  ],
});
