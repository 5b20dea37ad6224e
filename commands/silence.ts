import { z } from 'zod';
import { clusterVia, decideWithCommand, healthOf } from '../src/framework/services/health.js';
import { defineGroup, defineSubcommand, opt, TEXT_LIMITS } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import { parseDuration } from '../src/util/duration.js';
import { formatTime as stamp } from '../src/util/format-time.js';
import { silenceData, toSilenceData } from '../src/framework/render/health-data.js';
import { plural } from '../src/util/plural.js';

const silences = z.object({ silences: z.array(silenceData) });


export default defineGroup({
  name: 'silence',
  summary: 'Hold back alert notifications for a cluster or a check for a while (checks keep running).',
  defaultSubcommand: 'add',
  subcommands: [
    defineSubcommand({
      name: 'add',
      summary: 'Silence a cluster or a check: alerts still fire and are recorded, but nobody is notified until it ends.',
      options: z.object({
        target: opt.text('Cluster or check name', TEXT_LIMITS.name),
        for: opt.duration('How long, e.g. 2h').default('1h'),
        reason: opt.reason(),
      }),
      positionals: ['target'],
      role: 'operator',
      clusterOf: clusterVia((a: { target: string }) => ({ target: a.target })),
      mutates: true,
      examples: ['silence api --for 2h --reason "known issue, fix deploying"', 'silence api-http --for 30m --reason flaky'],
      data: z.object({ silence: silenceData, action: z.enum(['opened', 'extended', 'unchanged']).describe('extended: merged into the active one on the same target; unchanged: it already covered that') }),
      handler: async (a, ctx) => {
        const ms = parseDuration(a.for);
        if (!ms) throw usage(`--for takes a duration such as 30m or 2h, not "${a.for}".`);
        const { silence: s, merged } = await decideWithCommand(ctx, (b) => healthOf(ctx).addSilence({ kind: 'silence', target: a.target, forMs: ms, reason: a.reason, actor: ctx.invocation.user.id }, b));
        if (merged?.how === 'covered') {
          return { title: `${a.target} is already silenced until ${stamp(s.endsAt)}`, text: `Silence ${s.id} by ${s.createdBy} (${s.reason}) already covers that; nothing changed. End it with \`silence end ${s.id}\`.`, severity: 'warning', data: { silence: toSilenceData(s), action: 'unchanged' as const } };
        }
        if (merged) {
          return { title: `🔕 Silence ${s.id} on ${a.target} extended until ${stamp(s.endsAt)}`, text: `It was silenced until ${stamp(merged.previousEndsAt)} (${s.reason}); merged into that silence rather than adding a second one.`, severity: 'success', visibility: 'channel', data: { silence: toSilenceData(s), action: 'extended' as const } };
        }
        return { title: `🔕 ${a.target} silenced until ${stamp(s.endsAt)}`, text: `Silence ${s.id}: ${a.reason}. End it early with \`silence end ${s.id}\`.`, severity: 'success', visibility: 'channel', data: { silence: toSilenceData(s), action: 'opened' as const } };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'Active silences and maintenance windows started from chat; --cluster needs the role only on that cluster.',
      options: z.object({ cluster: opt.cluster('Only silences of this cluster and its checks').optional() }),
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['silence list', 'silence list --cluster api'],
      data: silences,
      handler: async ({ cluster }, ctx) => {
        const h = healthOf(ctx);
        if (cluster) ctx.engine.cluster(ctx.state, cluster);
        const all = await h.health.silences({ activeAt: ctx.now().toISOString() });
        const list = [];
        for (const s of all) {
          const of = await h.clusterOf({ target: s.target });
          if ((!cluster || of === cluster) && ctx.canSee(of)) list.push(s);
        }
        return {
          title: `${plural(list.length, 'active silence')}${cluster ? ` on ${cluster}` : ''}`,
          table: { columns: ['id', 'kind', 'target', 'until', 'by', 'reason'], rows: list.map((s) => [s.id, s.kind, s.target, stamp(s.endsAt), s.createdBy, s.reason]) },
          data: { silences: list.map(toSilenceData) },
        };
      },
    }),
    defineSubcommand({
      name: 'end',
      summary: 'End a silence early (by id, or every silence of a target); held alerts are then notified.',
      options: z.object({ target: opt.text('Silence id, cluster or check', TEXT_LIMITS.name) }),
      positionals: ['target'],
      role: 'operator',
      clusterOf: clusterVia((a: { target: string }) => ({ target: a.target })),
      mutates: true,
      examples: ['silence end api'],
      data: silences.describe('The silences ended'),
      handler: async ({ target }, ctx) => {
        const ended = await decideWithCommand(ctx, (b) => healthOf(ctx).endSilences(target, 'silence', ctx.invocation.user.id, b), { release: true });
        return { title: `🔔 Ended ${plural(ended.length, 'silence')} of ${target}`, text: 'Alerts still firing are notified now.', severity: 'success', visibility: 'channel', data: { silences: ended.map(toSilenceData) } };
      },
    }),
  ],
});
