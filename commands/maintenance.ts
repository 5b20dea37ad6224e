import { z } from 'zod';
import { openWindow, windowPattern } from '../src/engine/alerts/maintenance-windows.js';
import { commitWithCommand, healthOf } from '../src/engine/health-services.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import type { HealthBatch } from '../src/store/health-store.js';
import { parseDuration } from '../src/util/duration.js';
import { formatTime as stamp } from '../src/util/format-time.js';


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
      handler: async (a, ctx) => {
        ctx.engine.cluster(ctx.state, a.cluster);
        const ms = parseDuration(a.for);
        if (!ms) throw usage(`--for takes a duration such as 30m or 2h, not "${a.for}".`);
        const b: HealthBatch = {};
        const { silence: s, merged } = await healthOf(ctx).addSilence({ kind: 'maintenance', target: a.cluster, forMs: ms, reason: a.reason, actor: ctx.invocation.user.id }, b);
        commitWithCommand(ctx, b);
        if (merged?.how === 'covered') {
          return { title: `Maintenance on ${a.cluster} is already open until ${stamp(s.endsAt)}`, text: `Opened by ${s.createdBy} (${s.reason}); nothing changed. End it with \`maintenance end ${a.cluster}\`.`, severity: 'warning' };
        }
        if (merged) {
          return { title: `🛠️ Maintenance on ${a.cluster} extended until ${stamp(s.endsAt)}`, text: `The open window (until ${stamp(merged.previousEndsAt)}, ${s.reason}) was extended rather than a second one opened.`, severity: 'success', visibility: 'channel' };
        }
        return { title: `🛠️ Maintenance on ${a.cluster} until ${stamp(s.endsAt)}`, text: `${a.reason}. Checks keep running; notifications are held back. End with \`maintenance end ${a.cluster}\`.`, severity: 'success', visibility: 'channel' };
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
      handler: async ({ cluster }, ctx) => {
        const b: HealthBatch = {};
        await healthOf(ctx).endSilences(cluster, 'maintenance', ctx.invocation.user.id, b);
        commitWithCommand(ctx, b, { release: true });
        return { title: `✅ Maintenance on ${cluster} ended`, severity: 'success', visibility: 'channel' };
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
      handler: async ({ cluster }, ctx) => {
        const now = ctx.now();
        const adHoc = (await healthOf(ctx).health.silences({ activeAt: now.toISOString(), kind: 'maintenance' })).filter((s) => (!cluster || s.target === cluster) && ctx.canSee(s.target));
        const rows = adHoc.map((s) => [s.target, 'open now', `until ${stamp(s.endsAt)}`, s.reason]);
        for (const [name, c] of Object.entries(ctx.engine.config.clusters)) {
          if ((cluster && name !== cluster) || !ctx.canSee(name)) continue;
          for (const w of c.maintenance) {
            const open = openWindow(w, now);
            rows.push([name, open ? 'open now' : 'recurring', open ? `until ${stamp(open.until.toISOString())}` : `${windowPattern(w)} (${w.timezone}) for ${w.duration}`, w.name]);
          }
        }
        return { title: 'Maintenance windows', table: { columns: ['cluster', 'state', 'when', 'what'], rows } };
      },
    }),
  ],
});
