import { z } from 'zod';
import { defineGroup, defineSubcommand } from '../src/framework/define-command.js';
import { runbooksOf, serviceCluster, startData, startRunbook } from '../src/framework/services/runbooks.js';
import { UserError } from '../src/user-error.js';
import { runOptions, serviceOption } from './deploy.js';

export default defineGroup({
  name: 'rollback',
  summary: 'Roll a service back with its rollback runbook.',
  defaultSubcommand: 'rollback',
  subcommands: [
    defineSubcommand({
      name: 'rollback',
      summary: 'Run the rollback runbook: to --to, or else the last version that deployed successfully.',
      options: z.object({ service: serviceOption(), to: z.string().max(128).optional().describe('Version to go back to (default: the last successful deploy before the current one)'), ...runOptions }),
      positionals: ['service'],
      role: 'operator',
      clusterOf: serviceCluster,
      dangerous: (a) => (a['dry-run'] ? undefined : `Rolling ${a.service} back${a.to ? ` to ${a.to}` : ''} changes what serves traffic.`),
      examples: ['rollback shop', 'rollback shop --to 1.4.1 --env staging'],
      data: startData,
      handler: async (a, ctx) => {
        const runbooks = runbooksOf(ctx);
        const env = a.env ?? runbooks.service(a.service).envs[0]!;
        const to = a.to ?? (await runbooks.previousVersion(a.service, env));
        if (!to) throw new UserError('infra_invalid_state', `No earlier successful deploy of ${a.service} (${env}) to go back to; name one with --to.`);
        return startRunbook(ctx, { service: a.service, runbook: 'rollback', params: { version: to }, env, dryRun: a['dry-run'], force: a.force });
      },
    }),
  ],
});
