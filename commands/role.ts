import { z } from 'zod';
import { describeFixedAdmin } from '../src/auth/authorize.js';
import { ROLES } from '../src/auth/roles.js';
import { UserError, usage } from '../src/user-error.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { changed, roleData } from '../src/framework/render/state-data.js';

const grantData = z.object({ changed, subject: z.string(), role: roleData, cluster: z.string().nullable().describe('null: globally') });

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
      data: grantData,
      handler: ({ user, role, cluster }, { change }) => {
        const where = cluster ? `on cluster ${cluster}` : 'globally';
        const data = (changed: boolean) => ({ changed, subject: user, role, cluster: cluster ?? null });
        if (user.startsWith('apikey:')) {
          throw usage(`${user} is an API key: its role and clusters are fixed when it is created. Create a key with the role you need (\`apikey create\`).`);
        }
        if (!change.grantRole(user, role, cluster)) return { title: `${user} already has ${role} ${where}`, text: 'Nothing changed.', data: data(false) };
        return { title: `Granted ${role} to ${user} ${where}`, data: data(true) };
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
      data: grantData,
      handler: ({ user, role, cluster }, { change, roles }) => {
        const where = cluster ? `on cluster ${cluster}` : 'globally';
        const data = (changed: boolean) => ({ changed, subject: user, role, cluster: cluster ?? null });
        const fixed = roles.fixedAdmins.find((a) => a.subject === user);
        if (fixed && role === 'admin' && !cluster) {
          throw new UserError('infra_invalid_state', `${user} is ${describeFixedAdmin(fixed)}; nothing was revoked.`);
        }
        if (!change.revokeRole(user, role, cluster)) {
          return { title: `${user} does not have ${role} ${where}`, text: 'Nothing changed. `role list` shows who has what.', severity: 'warning', data: data(false) };
        }
        return { title: `Revoked ${role} from ${user} ${where}`, data: data(true) };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'List who holds which role.',
      options: z.object({}),
      role: 'viewer',
      examples: ['role list'],
      data: z.object({
        assignments: z.array(
          z.object({
            subject: z.string(),
            role: roleData,
            cluster: z.string().nullable(),
            source: z.enum(['config', 'local', 'system', 'grant']).describe('config: an admin in the config file; local: the OS user of this console/CLI; system: infrabot itself (none revocable from chat); grant: role grant'),
            grantedBy: z.string().nullable(),
            grantedAt: z.string().nullable(),
          }),
        ),
      }),
      handler: (_a, { roles }) => {
        const rows = [
          ...roles.fixedAdmins.map((a) => [a.subject, 'admin', 'global', describeFixedAdmin(a)]),
          ...roles.grants.map((g) => [g.subject, g.role, g.cluster ?? 'global', `${g.grantedBy ?? '?'} at ${g.grantedAt?.slice(0, 16) ?? '?'}`]),
        ];
        const assignments = [
          ...roles.fixedAdmins.map((a) => ({ subject: a.subject, role: 'admin' as const, cluster: null, source: a.source, grantedBy: null, grantedAt: null })),
          ...roles.grants.map((g) => ({ subject: g.subject, role: g.role, cluster: g.cluster ?? null, source: 'grant' as const, grantedBy: g.grantedBy ?? null, grantedAt: g.grantedAt ?? null })),
        ];
        return { title: `${rows.length} role assignments`, table: { columns: ['subject', 'role', 'scope', 'granted by'], rows }, data: { assignments } };
      },
    }),
  ],
});
