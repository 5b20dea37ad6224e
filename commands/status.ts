import { z } from 'zod';
import type { CommandContext } from '../src/framework/command-context.js';
import type { ReplyField } from '../src/framework/reply.js';
import { formatDuration } from '../src/util/duration.js';
import { formatTime } from '../src/util/format-time.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { controlChannelData, describeControlChannel } from '../src/framework/render/describe-control-channel.js';
import { findSupersedingChange } from '../src/engine/schedules/find-superseding-change.js';
import { CLUSTER_COLUMNS, clusterRow, describeChange, describeLimits, describeTraffic, breakerIcon } from '../src/framework/render/describe-state.js';
import { controlData, isoTime, toControlData } from '../src/framework/render/state-data.js';

const revertData = z.object({
  id: z.string().describe('The revert schedule id (`schedule show <id>`, cancel with `schedule remove <id>`)'),
  command: z.string().describe('What it will run'),
  at: isoTime.describe('When it is due'),
  setBy: z.string().describe('Who made the time-limited change (platform-qualified user id)'),
  setByName: z.string(),
  supersededBy: z
    .object({ by: z.string(), at: isoTime })
    .nullable()
    .describe('A later change of the same thing: the revert will be skipped when due (null: it will run)'),
});

/**
 * Time-limited actions still to revert (of the clusters the user may see): what, when, by whom. One changed
 * by hand since is listed as superseded, as the runner will skip it (the same check, findSupersedingChange).
 */
async function pendingReverts(ctx: CommandContext, cluster: string | undefined): Promise<z.output<typeof revertData>[]> {
  const store = ctx.services?.schedules?.store;
  if (!store) return [];
  const due = (await store.list({ kind: 'revert', statuses: ['active'] })).filter(
    (s) => s.guard && (cluster ? s.guard.scope === cluster || s.guard.scope === 'global' : ctx.canSee(s.guard.scope === 'global' ? undefined : s.guard.scope)),
  );
  return Promise.all(
    due.map(async (s) => {
      const since = await findSupersedingChange(ctx.store, s.guard!);
      return {
        id: s.id,
        command: s.command.replace(/ --reason .*$/, ''),
        at: s.nextFireAt ?? s.createdAt,
        setBy: s.authorId,
        setByName: s.authorName,
        supersededBy: since ? { by: since.actor, at: since.at } : null,
      };
    }),
  );
}

function revertFields(reverts: readonly z.output<typeof revertData>[], now: number): ReplyField[] {
  const line = (r: z.output<typeof revertData>) =>
    r.supersededBy
      ? `⏭️ \`${r.command}\` at ${formatTime(r.at)}: will be skipped, ${r.supersededBy.by} changed it since (${formatTime(r.supersededBy.at)}; revert ${r.id})`
      : `⏲️ \`${r.command}\` at ${formatTime(r.at)} (in ${formatDuration(Date.parse(r.at) - now)}; set by ${r.setByName}; revert ${r.id})`;
  const pending = reverts.filter((r) => !r.supersededBy);
  const superseded = reverts.filter((r) => r.supersededBy);
  return [
    ...(pending.length ? [{ name: 'Reverts automatically', value: pending.map(line).join('\n') }] : []),
    ...(superseded.length ? [{ name: 'Superseded reverts', value: superseded.map(line).join('\n') }] : []),
  ];
}

const statusData = controlData
  .extend({
    reverts: z.array(revertData).describe('Automatic reverts of time-limited actions still scheduled'),
    controlChannel: controlChannelData.nullable(),
    store: z.enum(['sqlite', 'postgres']).describe('Where the bot keeps its state and audit log: embedded SQLite, or PostgreSQL shared by replicas'),
    runbookQueue: z.enum(['bullmq', 'in-process', 'none']).describe('Where runbook runs execute: BullMQ workers (Redis), or this process (no Redis)'),
  })
  .describe('The control state of the clusters the caller may see (with a cluster named, only that one), pending reverts, the control channel and the store backend');

const STORE_LINE = {
  sqlite: '🗄️ Store: embedded SQLite (this machine only).',
  postgres: '🗄️ Store: PostgreSQL (shared by every replica).',
} as const;

export default defineGroup({
  name: 'status',
  summary: 'Kill-switch, clusters, breakers and rate limits at a glance.',
  defaultSubcommand: 'status',
  subcommands: [
    defineSubcommand({
      name: 'status',
      summary: 'Show the control state of every cluster (those you may see), or of one.',
      options: z.object({ cluster: opt.cluster('Only this cluster').optional() }),
      positionals: ['cluster'],
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['status', 'status api'],
      data: statusData,
      handler: async ({ cluster }, ctx) => {
        const { engine, state, canSee, visibleClusters, services } = ctx;
        const pending = await pendingReverts(ctx, cluster);
        const reverts = revertFields(pending, ctx.now().getTime());
        const channel = await describeControlChannel(services?.control);
        const backend = ctx.store.db.dialect;
        const queue = services?.runbooks?.queue;
        const extra = { reverts: pending, controlChannel: channel.data, store: backend, runbookQueue: queue?.kind ?? ('none' as const) };
        const runsLine = queue && Object.keys(ctx.engine.config.services).length ? `Runbooks run ${queue.description}.` : undefined;
        const live = (name: string) => (channel.live ? [{ name: 'Live traffic', value: channel.live(name) }] : []);
        const ks = state.killSwitch;
        const ksLine = ks.on
          ? `🛑 Global kill-switch is ON${describeChange(ks.change)}: every cluster refuses traffic, whatever its own switch says.`
          : '✅ Global kill-switch is off.';
        if (cluster) {
          const c = engine.cluster(state, cluster);
          return {
            title: `${ks.on ? '🛑 ' : ''}Cluster ${c.name}${c.description ? ` (${c.description})` : ''}${ks.on ? ': traffic refused by the kill-switch' : ''}`,
            severity: ks.on ? 'critical' : !c.enabled || c.breakerView === 'open' ? 'warning' : 'info',
            text: [ksLine, channel.line, runsLine].filter(Boolean).join('\n'),
            fields: [
              { name: 'Traffic', value: `${describeTraffic(c, ks.on)}${describeChange(c.change)}` },
              { name: 'Breaker', value: `${breakerIcon[c.breakerView]}${describeChange(c.breaker.change)} · cool-down ${c.breakerCooldown}` },
              { name: 'Rate limits', value: describeLimits(c.rateLimits) },
              ...live(c.name),
              ...reverts,
            ],
            data: { ...toControlData(engine, state, [c]), ...extra },
          };
        }
        const clusters = engine.clusters(state).filter((c) => canSee(c.name));
        const troubled = clusters.filter((c) => !c.enabled || c.breakerView !== 'closed');
        const scope = visibleClusters ? ` (the ${clusters.length} you have a role on)` : '';
        const summary = ks.on
          ? `All ${clusters.length} clusters${scope} refuse traffic.`
          : troubled.length
            ? `${troubled.length} of ${clusters.length} clusters${scope} need attention.`
            : `All ${clusters.length} clusters${scope} enabled with closed breakers.`;
        return {
          title: ks.on ? '🛑 Kill-switch ON: all traffic refused' : 'infrabot status',
          severity: ks.on ? 'critical' : troubled.length ? 'warning' : 'info',
          text: [ksLine, summary, channel.line, STORE_LINE[backend], runsLine].filter(Boolean).join('\n'),
          table: channel.live
            ? { columns: [...CLUSTER_COLUMNS, 'live traffic'], rows: clusters.map((c) => [...clusterRow(c, ks.on), channel.live!(c.name)]) }
            : { columns: CLUSTER_COLUMNS, rows: clusters.map((c) => clusterRow(c, ks.on)) },
          ...(reverts.length ? { fields: reverts } : {}),
          data: { ...toControlData(engine, state, clusters), ...extra },
        };
      },
    }),
  ],
});
