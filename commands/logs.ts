import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { runbooksOf, serviceCluster } from '../src/framework/services/runbooks.js';
import { readLogs } from '../src/engine/observe/read-logs.js';
import { UserError, usage } from '../src/user-error.js';
import { parseDuration } from '../src/util/duration.js';
import { serviceOption } from './deploy.js';

/** Lines shown in the message itself; all of them are attached as a file. */
const SHOWN = 30;

export default defineGroup({
  name: 'logs',
  summary: 'Recent log lines of a service: from a file, a command (journalctl…) or Loki; secrets redacted.',
  defaultSubcommand: 'logs',
  subcommands: [
    defineSubcommand({
      name: 'logs',
      summary: 'Show the last lines of a service\'s log, optionally only those containing some text.',
      options: z.object({
        service: serviceOption(),
        lines: z.number().int().min(1).max(5000).default(100).describe('How many lines (1–5,000)'),
        grep: opt.text('Only lines containing this text (case-insensitive)', 200).optional(),
        since: opt.duration('How far back (Loki and commands using {{since}}), e.g. 1h').default('1h'),
      }),
      positionals: ['service'],
      role: 'operator',
      clusterOf: serviceCluster,
      examples: ['logs shop', 'logs shop --lines 200 --grep "error" --since 30m'],
      data: z.object({ service: z.string(), source: z.string(), lines: z.array(z.string()) }),
      handler: async (a, ctx) => {
        const runbooks = runbooksOf(ctx);
        const svc = runbooks.service(a.service);
        if (!svc.logs) throw new UserError('infra_invalid_state', `${a.service} has no log source; set services.${a.service}.logs to a file, command or loki (docs/runbooks.md).`);
        const ms = parseDuration(a.since);
        if (!ms) throw usage(`--since takes a duration such as 30m or 2h, not "${a.since}".`);
        const now = ctx.now();
        const { lines, source } = await readLogs(svc.logs, { lines: a.lines, ...(a.grep ? { grep: a.grep } : {}), since: new Date(now.getTime() - ms), now });
        const redacted = lines.map((l) => runbooks.redact(a.service, l));
        const all = redacted.join('\n');
        return {
          title: `Logs of ${a.service}: ${redacted.length} line${redacted.length === 1 ? '' : 's'}${a.grep ? ` containing "${a.grep}"` : ''}`,
          text: redacted.length ? ['```', ...redacted.slice(-SHOWN), '```', ...(redacted.length > SHOWN ? [`Last ${SHOWN} shown; all ${redacted.length} attached.`] : [])].join('\n') : `Nothing in ${source}${a.grep ? ' matches' : ''}.`,
          ...(redacted.length > SHOWN ? { attachments: [{ filename: `${a.service}-logs.txt`, contentType: 'text/plain', content: all }] } : {}),
          data: { service: a.service, source, lines: redacted },
        };
      },
    }),
  ],
});
