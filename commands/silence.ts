import { z } from 'zod';
import { healthOf } from '../src/engine/health-services.js';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { usage } from '../src/framework/errors.js';
import { parseDuration } from '../src/util/duration.js';

const stamp = (iso: string) => iso.slice(0, 16).replace('T', ' ') + 'Z';

export default defineGroup({
  name: 'silence',
  summary: 'Hold back alert notifications for a cluster or a check for a while (checks keep running).',
  defaultSubcommand: 'add',
  subcommands: [
    defineSubcommand({
      name: 'add',
      summary: 'Silence a cluster or a check: alerts still fire and are recorded, but nobody is notified until it ends.',
      options: z.object({
        target: z.string().min(1).describe('Cluster or check name'),
        for: opt.duration('How long, e.g. 2h').default('1h'),
        reason: opt.reason(),
      }),
      positionals: ['target'],
      role: 'operator',
      mutates: true,
      examples: ['silence api --for 2h --reason "known issue, fix deploying"', 'silence api-http --for 30m --reason flaky'],
      handler: async (a, ctx) => {
        const ms = parseDuration(a.for);
        if (!ms) throw usage(`--for takes a duration such as 30m or 2h, not "${a.for}".`);
        const s = await healthOf(ctx).addSilence({ kind: 'silence', target: a.target, forMs: ms, reason: a.reason, actor: ctx.invocation.user.id });
        return { title: `🔕 ${a.target} silenced until ${stamp(s.endsAt)}`, text: `Silence ${s.id}: ${a.reason}. End it early with \`silence end ${s.id}\`.`, severity: 'success', visibility: 'channel' };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'Active silences and maintenance windows started from chat.',
      options: z.object({}),
      role: 'viewer',
      examples: ['silence list'],
      handler: async (_a, ctx) => {
        const list = await healthOf(ctx).health.silences({ activeAt: ctx.now().toISOString() });
        return {
          title: `${list.length} active silence(s)`,
          table: { columns: ['id', 'kind', 'target', 'until', 'by', 'reason'], rows: list.map((s) => [s.id, s.kind, s.target, stamp(s.endsAt), s.createdBy, s.reason]) },
        };
      },
    }),
    defineSubcommand({
      name: 'end',
      summary: 'End a silence early (by id, or every silence of a target); held alerts are then notified.',
      options: z.object({ target: z.string().min(1).describe('Silence id, cluster or check') }),
      positionals: ['target'],
      role: 'operator',
      mutates: true,
      examples: ['silence end api'],
      handler: async ({ target }, ctx) => {
        const ended = await healthOf(ctx).endSilences(target, 'silence', ctx.invocation.user.id);
        return { title: `🔔 Ended ${ended.length} silence(s) of ${target}`, text: 'Alerts still firing are notified now.', severity: 'success', visibility: 'channel' };
      },
    }),
  ],
});
