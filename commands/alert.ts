import { z } from 'zod';
import { clusterVia, decideWithCommand, healthOf } from '../src/framework/services/health.js';
import type { CommandContext } from '../src/framework/command-context.js';
import { defineGroup, defineSubcommand, opt, TEXT_LIMITS } from '../src/framework/define-command.js';
import type { Alert } from '../src/store/health-store.js';
import { notFound, usage } from '../src/user-error.js';
import { formatDuration, parseDuration } from '../src/util/duration.js';
import { formatTime as stamp } from '../src/util/format-time.js';
import { alertData, silenceData, toAlertData, toSilenceData } from '../src/framework/render/health-data.js';
import { alertStartedAt } from '../src/engine/alerts/render-notification.js';
import { plural } from '../src/util/plural.js';

const alerts = z.object({ alerts: z.array(alertData) });

/** One or more alert ids exactly as a notification or `alert list` shows them (case does not matter). */
const id = opt.text('Alert id as shown, e.g. k3v9qa; several separated by spaces', TEXT_LIMITS.message);
const idsOf = (text: string) => [...new Set(text.toLowerCase().split(/[\s,]+/).filter(Boolean))];
const onAlerts = clusterVia((a: { id: string }) => ({ alert: idsOf(a.id)[0]! }));

/** Acks or resolves the alerts named; all must be on the cluster the role was checked on. */
async function onAlertsNamed(
  text: string,
  ctx: CommandContext,
  act: (ids: string[], b: Parameters<Parameters<typeof decideWithCommand>[1]>[0], opts: { resolvedToo: boolean }) => Promise<Alert[]>,
): Promise<Alert[]> {
  const ids = idsOf(text);
  const clusters = new Set(await Promise.all(ids.map((i) => healthOf(ctx).clusterOf({ alert: i }))));
  if (clusters.size > 1) throw usage(`Those alerts are on different clusters (${[...clusters].filter(Boolean).join(', ')}); give one cluster's alerts per command.`);
  // Decided again after a conflict (a probe resolved one meanwhile): then resolved alerts are not refused.
  return decideWithCommand(ctx, (b, again) => act(ids, b, { resolvedToo: again }));
}

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
      data: alerts,
      handler: async ({ resolved, cluster }, ctx) => {
        const h = healthOf(ctx);
        // Received alerts may name clusters infrabot does not steer; those are valid here too.
        if (cluster && !(await h.health.alerts({ cluster, limit: 1 })).some((a) => a.external)) ctx.engine.cluster(ctx.state, cluster);
        const now = ctx.now().getTime();
        const list = (await h.health.alerts({
          ...(resolved ? { status: 'resolved' as const, since: new Date(now - 86_400_000).toISOString() } : { status: 'firing' as const }),
          ...(cluster ? { cluster } : {}),
        })).filter((a) => ctx.canSee(a.cluster));
        return {
          title: resolved ? `Alerts resolved in the last 24 h${cluster ? ` on ${cluster}` : ''}` : `${plural(list.length, 'firing alert')}${cluster ? ` on ${cluster}` : ''}`,
          severity: !resolved && list.some((a) => a.severity === 'critical') ? 'critical' : 'info',
          table: {
            columns: ['id', 'cluster', 'check', 'severity', 'summary', 'age', 'status'],
            rows: list.map((a) => [
              a.id, a.cluster, a.check, a.severity, a.summary,
              formatDuration(Math.max(0, (a.resolvedAt ? Date.parse(a.external?.endsAt ?? a.resolvedAt) : now) - Date.parse(alertStartedAt(a)))),
              a.status === 'resolved' ? `resolved by ${a.resolvedBy}` : a.heldBy ? `held: ${a.heldBy}` : a.ackedBy ? `acked by ${a.ackedBy}` : 'firing',
            ]),
          },
          data: { alerts: list.map(toAlertData) },
        };
      },
    }),
    defineSubcommand({
      name: 'ack',
      summary: 'Acknowledge an alert (or every alert of a combined notification): reminders stop.',
      options: z.object({ id }),
      positionals: ['id'],
      role: 'operator',
      clusterOf: onAlerts,
      mutates: true,
      examples: ['alert ack k3v9qa', 'alert ack k3v9qa p7mz2x'],
      data: alerts,
      handler: async ({ id }, ctx) => {
        const acked = await onAlertsNamed(id, ctx, (ids, b, opts) => healthOf(ctx).alerts.ack(ids, ctx.invocation.user.id, b, opts));
        return { title: `👀 Acknowledged ${plural(acked.length, 'alert')}`, text: acked.map((a) => `${a.id} ${a.summary}`).join('\n'), severity: 'success', visibility: 'channel', data: { alerts: acked.map(toAlertData) } };
      },
    }),
    defineSubcommand({
      name: 'silence',
      summary: 'Silence one alert by its name (check or alertname); a received Alertmanager alert is silenced in Alertmanager too when receivers.alertmanager.url is set.',
      options: z.object({
        id: opt.text('Alert id as shown, e.g. k3v9qa', TEXT_LIMITS.name),
        for: opt.duration('How long, e.g. 2h').default('1h'),
        reason: opt.reason(),
      }),
      positionals: ['id'],
      role: 'operator',
      clusterOf: onAlerts,
      mutates: true,
      examples: ['alert silence k3v9qa --for 2h --reason "fix deploying"'],
      data: z.object({
        silence: silenceData,
        alertmanagerSilenceId: z.string().nullable().describe('The silence made in Alertmanager for a received alert, when it was'),
      }),
      handler: async (a, ctx) => {
        const h = healthOf(ctx);
        const ms = parseDuration(a.for);
        if (!ms) throw usage(`--for takes a duration such as 30m or 2h, not "${a.for}".`);
        const alert = await h.health.alert(a.id.toLowerCase());
        if (!alert) throw notFound(`No alert "${a.id}".`, 'List firing alerts with `alert list`.');
        const { silence: s } = await decideWithCommand(ctx, (b) => h.addSilence({ kind: 'silence', target: alert.check, forMs: ms, reason: a.reason, actor: ctx.invocation.user.id }, b));
        let source = '';
        let amSilence: string | null = null;
        if (alert.external?.source === 'alertmanager' && h.silenceAtSource) {
          try {
            const amId = await h.silenceAtSource({ labels: alert.external.labels, endsAt: s.endsAt, createdBy: ctx.invocation.user.id, comment: `${a.reason} (from infrabot, alert ${alert.id})` });
            amSilence = String(amId);
            source = `\nSilenced in Alertmanager too (silence ${amId}).`;
          } catch (err) {
            source = `\n⚠️ Not silenced in Alertmanager: ${(err as Error).message}. infrabot holds its notifications back; silence it there by hand if other receivers page.`;
          }
        }
        return {
          title: `🔕 ${alert.check} silenced until ${stamp(s.endsAt)}`,
          text: `Silence ${s.id}: ${a.reason}. End it early with \`silence end ${s.id}\`.${source}`,
          severity: 'success',
          visibility: 'channel',
          data: { silence: toSilenceData(s), alertmanagerSilenceId: amSilence },
        };
      },
    }),
    defineSubcommand({
      name: 'resolve',
      summary: 'Resolve an alert by hand (it fires again only after the check recovers and fails anew).',
      options: z.object({ id }),
      positionals: ['id'],
      role: 'operator',
      clusterOf: onAlerts,
      mutates: true,
      examples: ['alert resolve k3v9qa'],
      data: alerts,
      handler: async ({ id }, ctx) => {
        const h = healthOf(ctx);
        const done = await onAlertsNamed(id, ctx, (ids, b, opts) => h.alerts.resolve(ids, ctx.invocation.user.id, b, opts));
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
          title: `✅ Resolved ${plural(done.length, 'alert')} by hand`,
          text: done.map((a) => `${a.id} ${a.summary}`).join('\n') + warning,
          severity: failing.length ? 'warning' : 'success',
          visibility: 'channel',
          data: { alerts: done.map(toAlertData) },
        };
      },
    }),
  ],
});
