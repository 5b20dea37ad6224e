import { z } from 'zod';
import { openWindow, windowPattern } from '../src/engine/alerts/maintenance-windows.js';
import { decideWithCommand, healthOf } from '../src/framework/services/health.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import { parseDuration } from '../src/util/duration.js';
import { formatTime as stamp } from '../src/util/format-time.js';
import { silenceData, toSilenceData } from '../src/framework/render/health-data.js';
import { isoTime } from '../src/framework/render/state-data.js';


export default defineGroup({
  name: 'maintenance',
  summary: 'Maintenance windows: alerts of a cluster are held back (and recorded) while one is open.',
  subcommands: [
    defineSubcommand({
      name: 'start',
      summary: 'Open a maintenance window on a cluster now.',
      options: z.object({ cluster: opt.cluster(), for: opt.duration('How long, e.g. 2h').default('1h'), reason: opt.reason().default('planned maintenance') }),
      positionals: ['cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['maintenance start api --for 2h --reason "database upgrade"'],
      data: z.object({ window: silenceData, action: z.enum(['opened', 'extended', 'unchanged']).describe('extended: merged into the active one on the same target; unchanged: it already covered that') }),
      handler: async (a, ctx) => {
        ctx.engine.cluster(ctx.state, a.cluster);
        const ms = parseDuration(a.for);
        if (!ms) throw usage(`--for takes a duration such as 30m or 2h, not "${a.for}".`);
        const { silence: s, merged } = await decideWithCommand(ctx, (b) => healthOf(ctx).addSilence({ kind: 'maintenance', target: a.cluster, forMs: ms, reason: a.reason, actor: ctx.invocation.user.id }, b));
        if (merged?.how === 'covered') {
          return { title: `Maintenance on ${a.cluster} is already open until ${stamp(s.endsAt)}`, text: `Opened by ${s.createdBy} (${s.reason}); nothing changed. End it with \`maintenance end ${a.cluster}\`.`, severity: 'warning', data: { window: toSilenceData(s), action: 'unchanged' as const } };
        }
        if (merged) {
          return { title: `🛠️ Maintenance on ${a.cluster} extended until ${stamp(s.endsAt)}`, text: `The open window (until ${stamp(merged.previousEndsAt)}, ${s.reason}) was extended rather than a second one opened.`, severity: 'success', visibility: 'channel', data: { window: toSilenceData(s), action: 'extended' as const } };
        }
        return { title: `🛠️ Maintenance on ${a.cluster} until ${stamp(s.endsAt)}`, text: `${a.reason}. Checks keep running; notifications are held back. End with \`maintenance end ${a.cluster}\`.`, severity: 'success', visibility: 'channel', data: { window: toSilenceData(s), action: 'opened' as const } };
      },
    }),
    defineSubcommand({
      name: 'end',
      summary: 'Close the open maintenance window of a cluster; alerts still firing are notified.',
      options: z.object({ cluster: opt.cluster() }),
      positionals: ['cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['maintenance end api'],
      data: z.object({ cluster: z.string(), ended: z.array(silenceData) }),
      handler: async ({ cluster }, ctx) => {
        const ended = await decideWithCommand(ctx, (b) => healthOf(ctx).endSilences(cluster, 'maintenance', ctx.invocation.user.id, b), { release: true });
        return { title: `✅ Maintenance on ${cluster} ended`, severity: 'success', visibility: 'channel', data: { cluster, ended: ended.map(toSilenceData) } };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'Open maintenance windows and the recurring ones from the config.',
      options: z.object({ cluster: opt.cluster('Only this cluster').optional() }),
      positionals: ['cluster'],
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['maintenance list', 'maintenance list api'],
      data: z.object({
        windows: z.array(
          z.object({
            cluster: z.string(),
            source: z.enum(['chat', 'config']).describe('chat: opened with maintenance start; config: a recurring window'),
            open: z.boolean(),
            until: isoTime.nullable().describe('When the open window closes'),
            schedule: z.string().nullable().describe('Recurring windows: the pattern, its time zone and duration'),
            what: z.string(),
          }),
        ),
      }),
      handler: async ({ cluster }, ctx) => {
        const now = ctx.now();
        const adHoc = (await healthOf(ctx).health.silences({ activeAt: now.toISOString(), kind: 'maintenance' })).filter((s) => (!cluster || s.target === cluster) && ctx.canSee(s.target));
        const rows = adHoc.map((s) => [s.target, 'open now', `until ${stamp(s.endsAt)}`, s.reason]);
        type Window = { cluster: string; source: 'chat' | 'config'; open: boolean; until: string | null; schedule: string | null; what: string };
        const windows: Window[] = adHoc.map((s) => ({ cluster: s.target, source: 'chat', open: true, until: s.endsAt, schedule: null, what: s.reason }));
        for (const [name, c] of Object.entries(ctx.engine.config.clusters)) {
          if ((cluster && name !== cluster) || !ctx.canSee(name)) continue;
          for (const w of c.maintenance) {
            const open = openWindow(w, now);
            const schedule = `${windowPattern(w)} (${w.timezone}) for ${w.duration}`;
            rows.push([name, open ? 'open now' : 'recurring', open ? `until ${stamp(open.until.toISOString())}` : schedule, w.name]);
            windows.push({ cluster: name, source: 'config', open: Boolean(open), until: open ? open.until.toISOString() : null, schedule, what: w.name });
          }
        }
        return { title: 'Maintenance windows', table: { columns: ['cluster', 'state', 'when', 'what'], rows }, data: { windows } };
      },
    }),
  ],
});
