import { z } from 'zod';
import { describeFixedAdmin } from '../src/auth/authorize.js';
import { ROLES } from '../src/auth/roles.js';
import { UserError } from '../src/user-error.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';

const grantOptions = z.object({
  user: opt.user('User or group: a name, @mention, slack-group:S123, discord-role:123 or platform:id'),
  role: z.enum(ROLES).describe('viewer (read), operator (cluster actions), admin (everything)'),
  cluster: opt.cluster('Limit the role to this cluster').optional(),
});

export default defineGroup({
  name: 'role',
  summary: 'Grant, revoke and list roles (viewer < operator < admin).',
  subcommands: [
    defineSubcommand({
      name: 'grant',
      summary: 'Give a user or group a role, globally or on one cluster.',
      options: grantOptions,
      positionals: ['user', 'role'],
      role: 'admin',
      mutates: true,
      examples: ['role grant bob operator --cluster api', 'role grant slack:U024BE7LH viewer', 'role grant discord-role:4242 operator'],
      handler: ({ user, role, cluster }, { change }) => {
        const where = cluster ? `on cluster ${cluster}` : 'globally';
        if (!change.grantRole(user, role, cluster)) return { title: `${user} already has ${role} ${where}`, text: 'Nothing changed.' };
        return { title: `Granted ${role} to ${user} ${where}` };
      },
    }),
    defineSubcommand({
      name: 'revoke',
      summary: 'Take a role away from a user or group.',
      options: grantOptions,
      positionals: ['user', 'role'],
      role: 'admin',
      mutates: true,
      examples: ['role revoke bob operator --cluster api'],
      handler: ({ user, role, cluster }, { change, roles }) => {
        const where = cluster ? `on cluster ${cluster}` : 'globally';
        const fixed = roles.fixedAdmins.find((a) => a.subject === user);
        if (fixed && role === 'admin' && !cluster) {
          throw new UserError('infra_invalid_state', `${user} is ${describeFixedAdmin(fixed)}; nothing was revoked.`);
        }
        if (!change.revokeRole(user, role, cluster)) {
          return { title: `${user} does not have ${role} ${where}`, text: 'Nothing changed. `role list` shows who has what.', severity: 'warning' };
        }
        return { title: `Revoked ${role} from ${user} ${where}` };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'List who holds which role.',
      options: z.object({}),
      role: 'viewer',
      examples: ['role list'],
      handler: (_a, { roles }) => {
        const rows = [
          ...roles.fixedAdmins.map((a) => [a.subject, 'admin', 'global', describeFixedAdmin(a)]),
          ...roles.grants.map((g) => [g.subject, g.role, g.cluster ?? 'global', `${g.grantedBy ?? '?'} at ${g.grantedAt?.slice(0, 16) ?? '?'}`]),
        ];
        return { title: `${rows.length} role assignments`, table: { columns: ['subject', 'role', 'scope', 'granted by'], rows } };
      },
    }),
  ],
});
