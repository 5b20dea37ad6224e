import { z } from 'zod';
import { describeFixedAdmin, effectiveRole, fixedAdminOf } from '../src/auth/authorize.js';
import { roleData } from '../src/framework/render/state-data.js';
import { defineGroup, defineSubcommand } from '../src/framework/define-command.js';

export default defineGroup({
  name: 'whoami',
  summary: 'Show who infrabot thinks you are and what you may do.',
  defaultSubcommand: 'whoami',
  subcommands: [
    defineSubcommand({
      name: 'whoami',
      summary: 'Show your identity and roles.',
      options: z.object({}),
      // Everyone may ask who they are, including users with no role: it is how they find out what to request.
      role: 'anyone',
      examples: ['whoami'],
      data: z.object({
        userId: z.string(),
        platform: z.string(),
        globalRole: roleData.nullable(),
        globalRoleSource: z.enum(['config', 'local', 'system', 'grant']).nullable().describe('config: an admin in the config file; local: the OS user of this console/CLI; system: infrabot itself; grant: role grant'),
        clusterRoles: z.array(z.object({ cluster: z.string(), role: roleData })).describe('Roles held on single clusters beyond the global one'),
        groups: z.array(z.string()),
      }),
      handler: (_args, ctx) => {
        const { user, platform } = ctx.invocation;
        const principal = { id: user.id, groups: user.groups ?? [] };
        const global = effectiveRole(principal, ctx.roles);
        const fixed = fixedAdminOf(principal, ctx.roles);
        const perCluster = Object.keys(ctx.state.clusters)
          .sort()
          .map((c) => [c, effectiveRole(principal, ctx.roles, c)] as const)
          .filter(([, r]) => r !== undefined && r !== global);
        return {
          title: `You are ${user.displayName}`,
          fields: [
            { name: 'User id', value: user.id, inline: true },
            { name: 'Platform', value: platform, inline: true },
            { name: 'Global role', value: fixed ? describeFixedAdmin(fixed) : (global ?? 'none'), inline: !fixed },
            ...(perCluster.length ? [{ name: 'Cluster roles', value: perCluster.map(([c, r]) => `${c}: ${r}`).join(', ') }] : []),
            ...(user.groups?.length ? [{ name: 'Groups', value: user.groups.join(', ') }] : []),
          ],
          data: {
            userId: user.id,
            platform,
            globalRole: global ?? null,
            globalRoleSource: fixed ? fixed.source : global ? ('grant' as const) : null,
            clusterRoles: perCluster.flatMap(([cluster, role]) => (role ? [{ cluster, role }] : [])),
            groups: user.groups ?? [],
          },
        };
      },
    }),
  ],
});
