import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { parseParams, serviceCluster, startData, startRunbook } from '../src/framework/services/runbooks.js';

const service = () => z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'service names are lower-case letters, digits, dashes and underscores').describe('Service (from the config)');
export const runOptions = {
  env: z.string().max(64).optional().describe('Environment (default: the service\'s first)'),
  'dry-run': z.boolean().default(false).describe('Show exactly what would run, parameters filled in, and run nothing'),
  force: z.boolean().default(false).describe('Admins only: run despite the kill-switch, a disabled cluster or maintenance (audited)'),
};
export { service as serviceOption };

export default defineGroup({
  name: 'deploy',
  summary: 'Deploy a version of a service with its deploy runbook.',
  defaultSubcommand: 'deploy',
  subcommands: [
    defineSubcommand({
      name: 'deploy',
      summary: 'Run the service\'s deploy runbook with this version; progress is posted in the channel.',
      options: z.object({ service: service(), version: opt.text('Version to deploy (checked against its pattern)', 128), param: opt.text('More parameters: key=value pairs', 500).optional(), ...runOptions }),
      positionals: ['service', 'version'],
      role: 'operator',
      clusterOf: serviceCluster,
      dangerous: (a) => (a['dry-run'] ? undefined : `Deploying ${a.service} ${a.version}${a.env ? ` to ${a.env}` : ''} changes what serves traffic.`),
      examples: ['deploy shop 1.4.2', 'deploy shop 1.4.2 --env staging --dry-run'],
      data: startData,
      handler: (a, ctx) =>
        startRunbook(ctx, { service: a.service, runbook: 'deploy', params: { ...parseParams(a.param), version: a.version }, env: a.env, dryRun: a['dry-run'], force: a.force }),
    }),
  ],
});
