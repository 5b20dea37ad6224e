import { z } from 'zod';
import { clusterVia, commitWithCommand, healthOf } from '../src/engine/health-services.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import type { HealthBatch } from '../src/store/health-store.js';
import { formatDuration } from '../src/util/duration.js';

const id = z.string().min(1).describe('Alert id, or the notification id shown on a combined alert');

export default defineGroup({
  name: 'alert',
  summary: 'Firing alerts: list, acknowledge (stops reminders), resolve by hand.',
  defaultSubcommand: 'list',
  subcommands: [
    defineSubcommand({
      name: 'list',
      summary: 'Firing alerts, or recently resolved ones with --resolved; --cluster needs the role only on that cluster.',
      options: z.object({
        resolved: z.boolean().default(false).describe('Show resolved alerts of the last 24 h instead'),
        cluster: opt.cluster('Only this cluster').optional(),
      }),
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['alert list', 'alert list --resolved', 'alert list --cluster api'],
      handler: async ({ resolved, cluster }, ctx) => {
        const h = healthOf(ctx);
        if (cluster) ctx.engine.cluster(ctx.state, cluster);
        const now = ctx.now().getTime();
        const list = (await h.health.alerts({
          ...(resolved ? { status: 'resolved' as const, since: new Date(now - 86_400_000).toISOString() } : { status: 'firing' as const }),
          ...(cluster ? { cluster } : {}),
        })).filter((a) => ctx.canSee(a.cluster));
        return {
          title: resolved ? `Alerts resolved in the last 24 h${cluster ? ` on ${cluster}` : ''}` : `${list.length} firing alert(s)${cluster ? ` on ${cluster}` : ''}`,
          severity: !resolved && list.some((a) => a.severity === 'critical') ? 'critical' : 'info',
          table: {
            columns: ['id', 'cluster', 'check', 'severity', 'summary', 'age', 'status'],
            rows: list.map((a) => [
              a.id, a.cluster, a.check, a.severity, a.summary,
              formatDuration((a.resolvedAt ? Date.parse(a.resolvedAt) : now) - Date.parse(a.firedAt)),
              a.status === 'resolved' ? `resolved by ${a.resolvedBy}` : a.heldBy ? `held: ${a.heldBy}` : a.ackedBy ? `acked by ${a.ackedBy}` : 'firing',
            ]),
          },
        };
      },
    }),
    defineSubcommand({
      name: 'ack',
      summary: 'Acknowledge an alert (or every alert of a combined notification): reminders stop.',
      options: z.object({ id }),
      positionals: ['id'],
      role: 'operator',
      clusterOf: clusterVia((a: { id: string }) => ({ alert: a.id })),
      mutates: true,
      examples: ['alert ack k3v9qa'],
      handler: async ({ id }, ctx) => {
        const b: HealthBatch = {};
        const acked = await healthOf(ctx).alerts.ack(id, ctx.invocation.user.id, b);
        commitWithCommand(ctx, b);
        return { title: `👀 Acknowledged ${acked.length} alert(s)`, text: acked.map((a) => `${a.id} ${a.summary}`).join('\n'), severity: 'success', visibility: 'channel' };
      },
    }),
    defineSubcommand({
      name: 'resolve',
      summary: 'Resolve an alert by hand (it fires again only after the check recovers and fails anew).',
      options: z.object({ id }),
      positionals: ['id'],
      role: 'operator',
      clusterOf: clusterVia((a: { id: string }) => ({ alert: a.id })),
      mutates: true,
      examples: ['alert resolve k3v9qa'],
      handler: async ({ id }, ctx) => {
        const b: HealthBatch = {};
        const h = healthOf(ctx);
        const done = await h.alerts.resolve(id, ctx.invocation.user.id, b);
        commitWithCommand(ctx, b);
        // Resolving by hand does not make a failing check pass: say so, and what it means for new alerts.
        const failing = [];
        for (const a of done) {
          const state = await h.health.checkState(a.check);
          if (state && state.status !== 'up' && state.status !== 'unknown' && (a.kind !== 'degraded' || state.status === 'degraded')) failing.push(`${a.check} is still ${state.status.toUpperCase()}`);
        }
        const warning = failing.length
          ? `\n⚠️ ${failing.join('; ')}: no new alert fires for it until the check recovers and fails again. To keep quiet while it is fixed, \`silence\` it instead.`
          : '';
        return {
          title: `✅ Resolved ${done.length} alert(s) by hand`,
          text: done.map((a) => `${a.id} ${a.summary}`).join('\n') + warning,
          severity: failing.length ? 'warning' : 'success',
          visibility: 'channel',
        };
      },
    }),
  ],
});
