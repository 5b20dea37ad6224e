import { z } from 'zod';
import { healthOf } from '../src/engine/health-services.js';
import { defineGroup, defineSubcommand } from '../src/framework/define-command.js';
import { formatDuration } from '../src/util/duration.js';

const id = z.string().min(1).describe('Alert id, or the notification id shown on a combined alert');

export default defineGroup({
  name: 'alert',
  summary: 'Firing alerts: list, acknowledge (stops reminders), resolve by hand.',
  defaultSubcommand: 'list',
  subcommands: [
    defineSubcommand({
      name: 'list',
      summary: 'Firing alerts, or recently resolved ones with --resolved.',
      options: z.object({ resolved: z.boolean().default(false).describe('Show resolved alerts of the last 24 h instead') }),
      role: 'viewer',
      examples: ['alert list', 'alert list --resolved'],
      handler: async ({ resolved }, ctx) => {
        const h = healthOf(ctx);
        const now = ctx.now().getTime();
        const list = await h.health.alerts(resolved ? { status: 'resolved', since: new Date(now - 86_400_000).toISOString() } : { status: 'firing' });
        return {
          title: resolved ? 'Alerts resolved in the last 24 h' : `${list.length} firing alert(s)`,
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
      mutates: true,
      examples: ['alert ack k3v9qa'],
      handler: async ({ id }, ctx) => {
        const acked = await healthOf(ctx).alerts.ack(id, ctx.invocation.user.id);
        return { title: `👀 Acknowledged ${acked.length} alert(s)`, text: acked.map((a) => `${a.id} ${a.summary}`).join('\n'), severity: 'success', visibility: 'channel' };
      },
    }),
    defineSubcommand({
      name: 'resolve',
      summary: 'Resolve an alert by hand (it fires again only after the check recovers and fails anew).',
      options: z.object({ id }),
      positionals: ['id'],
      role: 'operator',
      mutates: true,
      examples: ['alert resolve k3v9qa'],
      handler: async ({ id }, ctx) => {
        const done = await healthOf(ctx).alerts.resolve(id, ctx.invocation.user.id);
        return { title: `✅ Resolved ${done.length} alert(s)`, text: done.map((a) => `${a.id} ${a.summary}`).join('\n'), severity: 'success', visibility: 'channel' };
      },
    }),
  ],
});
