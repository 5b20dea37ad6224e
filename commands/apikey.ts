import { z } from 'zod';
import { ROLES } from '../src/auth/roles.js';
import { newApiKeySecret } from '../src/auth/api-key-secret.js';
import { changed, isoTime, roleData } from '../src/engine/state-data.js';
import type { CommandContext } from '../src/framework/command-context.js';
import { defineGroup, defineSubcommand } from '../src/framework/define-command.js';
import type { ApiKey, ApiKeyStore } from '../src/store/api-key-store.js';
import { notFound, usage, UserError } from '../src/user-error.js';
import { parseDuration, shiftTime } from '../src/util/duration.js';
import { plural } from '../src/util/plural.js';

const CLUSTER = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Keys expire by default: a forgotten CI token should not work for ever. */
const DEFAULT_EXPIRY = '90d';
const MAX_EXPIRY_MS = 3 * 365 * 86_400_000;

const keyData = z.object({
  id: z.string(),
  name: z.string(),
  role: roleData,
  clusters: z.array(z.string()).nullable().describe('null: every cluster, and global commands'),
  status: z.enum(['active', 'revoked', 'expired']),
  createdBy: z.string(),
  createdAt: isoTime,
  expiresAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
  revokedBy: z.string().nullable(),
});

const statusOf = (k: ApiKey, now: Date) => (k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt <= now.toISOString() ? 'expired' : 'active');

const toKeyData = (k: ApiKey, now: Date): z.output<typeof keyData> => ({
  id: k.id,
  name: k.name,
  role: k.role,
  clusters: k.clusters ?? null,
  status: statusOf(k, now),
  createdBy: k.createdBy,
  createdAt: k.createdAt,
  expiresAt: k.expiresAt ?? null,
  revokedAt: k.revokedAt ?? null,
  revokedBy: k.revokedBy ?? null,
});

function keysOf(ctx: CommandContext): ApiKeyStore {
  const keys = ctx.services?.apiKeys;
  if (!keys) throw new UserError('infra_invalid_state', 'API keys are not available in this process (they need the SQLite store).');
  return keys;
}

const scope = (k: ApiKey) => `${k.role} ${k.clusters ? `on ${k.clusters.join(', ')}` : 'on every cluster'}`;
const day = (iso?: string) => (iso ? `${iso.slice(0, 10)}` : 'never');

export default defineGroup({
  name: 'apikey',
  summary: 'API keys for the HTTP control API: create (shown once), list, revoke.',
  defaultSubcommand: 'list',
  subcommands: [
    defineSubcommand({
      name: 'create',
      summary: 'Create an API key with a role, optionally only on some clusters. The key is shown once; only its hash is stored.',
      options: z.object({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'names are letters, digits, dots, dashes and underscores (at most 63)').describe('What the key is for, e.g. ci-deploy'),
        role: z.enum(ROLES).describe('viewer (read), operator (cluster actions), admin (everything)'),
        cluster: z.string().optional().describe('Only these clusters, comma-separated (default: every cluster)'),
        expires: z.string().default(DEFAULT_EXPIRY).describe(`Lifetime such as 30d, or "never" (default ${DEFAULT_EXPIRY}, at most 3 years)`),
      }),
      positionals: ['name'],
      role: 'admin',
      mutates: true,
      examples: ['apikey create ci-deploy --role operator --cluster api --expires 90d', 'apikey create grafana --role viewer'],
      data: z.object({ key: keyData, token: z.string().describe('The key itself: send it as `Authorization: Bearer <token>`. Shown only in this reply.') }),
      handler: async ({ name, role, cluster, expires }, ctx) => {
        const keys = keysOf(ctx);
        const clusters = cluster?.split(',').map((c) => c.trim()).filter(Boolean);
        for (const c of clusters ?? []) {
          if (!CLUSTER.test(c)) throw usage(`apikey create: --cluster "${c}" is not a cluster name.`);
          ctx.engine.cluster(ctx.state, c);
        }
        if (clusters && clusters.length === 0) throw usage('apikey create: --cluster needs at least one cluster name.');
        const now = ctx.now();
        let expiresAt: string | undefined;
        if (expires.toLowerCase() !== 'never') {
          const ms = parseDuration(expires);
          if (!ms || ms > MAX_EXPIRY_MS) throw usage(`apikey create: --expires takes a duration from 1m to 3 years (such as 90d) or "never", not "${expires}".`);
          expiresAt = shiftTime(now, ms)!.toISOString();
        }
        if ((await keys.list()).some((k) => k.name === name && !k.revokedAt)) {
          throw new UserError('infra_conflict', `An API key named "${name}" exists already.`, `Revoke it first (\`apikey revoke ${name}\`) or pick another name.`);
        }
        const secret = newApiKeySecret();
        const key: ApiKey = {
          id: secret.id,
          name,
          role,
          ...(clusters ? { clusters: [...new Set(clusters)].sort() } : {}),
          secretHash: secret.secretHash,
          createdBy: ctx.invocation.user.id,
          createdAt: now.toISOString(),
          ...(expiresAt ? { expiresAt } : {}),
        };
        ctx.transactional((tx) => keys.insert(tx, key));
        return {
          title: `API key ${name} created`,
          text: `${secret.token}\nThis is the only time the key is shown: store it now. Send it as \`Authorization: Bearer <key>\`. It is ${scope(key)}, expires ${day(expiresAt)}.`,
          severity: 'success',
          // Never in the channel: only the admin who asked sees the key.
          visibility: 'ephemeral',
          shownOnce: secret.token,
          data: { key: toKeyData(key, now), token: secret.token },
        };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'API keys with their role, clusters, expiry and status (never the key itself).',
      options: z.object({}),
      role: 'admin',
      examples: ['apikey list'],
      data: z.object({ keys: z.array(keyData) }),
      handler: async (_a, ctx) => {
        const now = ctx.now();
        const list = await keysOf(ctx).list();
        return {
          title: plural(list.length, 'API key'),
          table: {
            columns: ['id', 'name', 'role', 'clusters', 'status', 'created', 'expires'],
            rows: list.map((k) => [k.id, k.name, k.role, k.clusters?.join(', ') ?? 'all', statusOf(k, now), `${day(k.createdAt)} by ${k.createdBy}`, day(k.expiresAt)]),
          },
          data: { keys: list.map((k) => toKeyData(k, now)) },
        };
      },
    }),
    defineSubcommand({
      name: 'revoke',
      summary: 'Revoke an API key (by id or name): its next request gets 401.',
      options: z.object({ key: z.string().min(1).describe('Key id or name') }),
      positionals: ['key'],
      role: 'admin',
      mutates: true,
      examples: ['apikey revoke ci-deploy'],
      data: z.object({ changed, key: keyData }),
      handler: async ({ key: ref }, ctx) => {
        const keys = keysOf(ctx);
        const now = ctx.now();
        const all = await keys.list();
        const key = all.find((k) => k.id === ref && !k.revokedAt) ?? all.find((k) => k.name === ref && !k.revokedAt) ?? all.find((k) => k.id === ref);
        if (!key) throw notFound(`No API key "${ref}".`, 'List them with `apikey list`.');
        if (key.revokedAt) return { title: `API key ${key.name} was already revoked`, text: 'Nothing changed.', data: { changed: false, key: toKeyData(key, now) } };
        const revoked = { ...key, revokedAt: now.toISOString(), revokedBy: ctx.invocation.user.id };
        ctx.transactional(async (tx) => void (await keys.revoke(tx, key.id, revoked.revokedBy, revoked.revokedAt)));
        return { title: `API key ${key.name} revoked`, text: `Requests with it get 401 from now on.`, severity: 'success', data: { changed: true, key: toKeyData(revoked, now) } };
      },
    }),
  ],
});
