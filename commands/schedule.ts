import { z } from 'zod';
import { authorize, effectiveRole } from '../src/auth/authorize.js';
import { checkTimeZone, parseScheduleSpec } from '../src/engine/schedules/parse-schedule-spec.js';
import { nextFireTimes } from '../src/engine/schedules/next-fire-times.js';
import { formatInZone } from '../src/util/format-in-zone.js';
import { schedulesOf, target } from '../src/engine/schedules/schedule-services.js';
import type { CommandContext } from '../src/framework/command-context.js';
import { defineGroup, defineSubcommand, opt, TEXT_LIMITS } from '../src/framework/define-command.js';
import { userPlatformPrefix } from '../src/framework/invocation.js';
import { parseCommand } from '../src/framework/parse-command.js';
import { createRegistry, type Registry } from '../src/framework/registry.js';
import type { Schedule } from '../src/store/schedule-store.js';
import { notFound, UserError, usage } from '../src/user-error.js';
import { shortId } from '../src/util/ids.js';
import { quoteForMessage } from '../src/util/quote-for-message.js';
import { COMMAND_GROUPS } from './index.js';
import { changed, isoTime } from '../src/engine/state-data.js';
import { plural } from '../src/util/plural.js';

// Built on first use: this module is itself one of COMMAND_GROUPS.
let registry: Registry | undefined;
const commands = () => (registry ??= createRegistry(COMMAND_GROUPS));

/** A runaway script adding schedules in a loop stops here; nobody reads a list longer than this. */
export const MAX_SCHEDULES_PER_AUTHOR = 100;

const idOption = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'a schedule id as `schedule list` shows it').describe('Schedule id (see `schedule list`)');

/** The scheduled command, parsed as it will be at fire time; refuses what a schedule cannot run. */
function parseScheduled(text: string, platform: string, reg: Registry) {
  const parsed = parseCommand(reg, text, platform);
  if (parsed.kind !== 'command') throw usage(`${quoteForMessage(text)} is help, not a command to schedule.`);
  if (parsed.name.startsWith('schedule ')) throw usage('A schedule cannot run `schedule` commands.');
  return parsed;
}

async function find(ctx: CommandContext, id: string): Promise<Schedule> {
  const s = await schedulesOf(ctx).store.get(id);
  if (!s || s.status === 'removed') throw notFound(`No schedule ${quoteForMessage(id)}.`, '`schedule list` shows the schedules.');
  return s;
}

/** Only the author or an admin changes a schedule: it runs with the author's roles. */
function mayChange(ctx: CommandContext, s: Schedule): void {
  const user = ctx.invocation.user;
  if (user.id === s.authorId || effectiveRole({ id: user.id, groups: user.groups ?? [] }, ctx.roles) === 'admin') return;
  throw new UserError('infra_denied', `Schedule ${s.id} belongs to ${s.authorName} (${s.authorId}); only they or an admin may change it.`);
}

function write(ctx: CommandContext, next: Schedule): void {
  const service = schedulesOf(ctx);
  ctx.transactional(async (tx) => {
    if (!(await service.store.update(tx, next))) throw new UserError('infra_conflict', `Schedule ${next.id} was changed by someone else meanwhile; nothing was done. Try again.`);
  }, service.kick);
}

const scheduleData = z.object({
  id: z.string(),
  kind: z.enum(['command', 'revert']),
  name: z.string().nullable(),
  spec: z.string().describe('As typed ("weekdays 09:00"), or "at <time>" for a revert'),
  cron: z.string().nullable().describe('null for one-shot reverts'),
  timezone: z.string(),
  command: z.string(),
  authorId: z.string(),
  platform: z.string(),
  channel: z.string(),
  status: z.enum(['active', 'paused', 'stopped', 'done', 'removed']),
  statusReason: z.string().nullable(),
  createdAt: isoTime,
  nextFireAt: isoTime.nullable(),
  lastFireAt: isoTime.nullable(),
  lastOutcome: z.string().nullable(),
});

const toScheduleData = (s: Schedule): z.output<typeof scheduleData> => ({
  id: s.id, kind: s.kind, name: s.name ?? null, spec: s.spec, cron: s.cron ?? null, timezone: s.tz, command: s.command, authorId: s.authorId,
  platform: s.platform, channel: s.channel, status: s.status, statusReason: s.statusReason ?? null, createdAt: s.createdAt,
  nextFireAt: s.nextFireAt ?? null, lastFireAt: s.lastFireAt ?? null, lastOutcome: s.lastOutcome ?? null,
});
const one = z.object({ changed, schedule: scheduleData });

const when = (s: Schedule) => (s.cron ? `${s.spec} (${s.tz})` : `once, ${s.nextFireAt ? formatInZone(new Date(s.nextFireAt), s.tz) : s.spec}`);
const nextText = (s: Schedule) => (s.status === 'active' && s.nextFireAt ? formatInZone(new Date(s.nextFireAt), s.tz) : s.status);

export default defineGroup({
  name: 'schedule',
  summary: 'Scheduled operations: run any /infra command on a cron schedule, as you, with your roles checked at every run.',
  subcommands: [
    defineSubcommand({
      name: 'add',
      summary: 'Schedule a command (cron or shortcut such as "daily 02:00", "weekdays 09:00", "every 15m").',
      options: z.object({
        when: opt.text('Cron pattern (5 fields) or shortcut: daily HH:MM, weekdays HH:MM, weekly mon HH:MM, hourly, every 15m', TEXT_LIMITS.name),
        command: opt.text('The /infra command to run, in quotes', TEXT_LIMITS.message),
        tz: opt.text('IANA time zone of the schedule (default: config schedules.timezone)', TEXT_LIMITS.name).optional(),
        name: opt.text('A name to recognise it by', 60).optional(),
        channel: z.string().regex(/^((slack|discord|console):)?#?[\w.-]{1,80}$/, 'a channel id, optionally platform-qualified (slack:C123)').optional().describe('Where results are posted (default: here)'),
      }),
      positionals: ['when', 'command'],
      role: 'viewer',
      // A user with a role on one cluster may schedule commands on it (the handler checks the command's own role).
      clusterOf: async (a, lookup) => {
        try {
          const parsed = parseScheduled(a.command, 'local', commands());
          return await parsed.sub.clusterOf?.(parsed.args, lookup);
        } catch {
          return undefined;
        }
      },
      dangerous: (a) => {
        try {
          const parsed = parseScheduled(a.command, 'local', commands());
          const danger = parsed.sub.dangerous?.(parsed.args);
          return danger ? `Every run of this schedule does this without asking again: ${danger}` : undefined;
        } catch {
          return undefined; // the handler reports the problem
        }
      },
      examples: [
        'schedule add "daily 02:00" "killswitch on --for 1h --reason nightly migration" --tz Europe/Berlin --name migration',
        'schedule add "weekly mon 09:00" "summary --since 7d" --channel slack:C0123OPS',
        'schedule add "every 15m" "health run api-http"',
      ],
      data: one,
      handler: async (a, ctx) => {
        const service = schedulesOf(ctx);
        const tz = checkTimeZone(a.tz ?? service.timezone);
        const { cron, spec } = parseScheduleSpec(a.when, tz);
        const user = ctx.invocation.user;
        const parsed = parseScheduled(a.command, userPlatformPrefix(user.id), ctx.registry);
        // A typo in the cluster would otherwise only show at the first run, maybe at night.
        const named = (parsed.args as { cluster?: unknown }).cluster;
        if (typeof named === 'string') ctx.engine.cluster(ctx.state, named);
        // Checked now as it will be at every run: with the author's own grants (group memberships cannot be
        // looked up at fire time, so they do not count for schedules).
        if (parsed.sub.role !== 'anyone') {
          let cluster: string | undefined;
          try {
            cluster = await parsed.sub.clusterOf?.(parsed.args, ctx.services ? { services: ctx.services } : {});
          } catch {
            cluster = undefined;
          }
          const decision = authorize({ id: user.id, groups: [] }, parsed.sub.role, ctx.roles, cluster);
          if (!decision.ok) {
            throw new UserError('infra_denied', `You may not schedule \`${a.command}\`: ${decision.message}`, 'Scheduled commands run with your own roles (not those of your groups), checked again at every run.');
          }
        }
        const mine = (await service.store.list({ kind: 'command', statuses: ['active', 'paused', 'stopped'] })).filter((s) => s.authorId === user.id);
        if (mine.length >= MAX_SCHEDULES_PER_AUTHOR) {
          throw new UserError('infra_invalid_state', `You have ${plural(mine.length, 'schedule')}, the most one person may have; nothing was added.`, 'Remove some with `schedule remove <id>` (see `schedule list`).');
        }
        const now = ctx.now();
        const next = nextFireTimes(cron, tz, now, 1)[0]!;
        const s: Schedule = {
          id: shortId(8), kind: 'command', ...(a.name ? { name: a.name } : {}), spec, cron, tz, command: a.command.trim(),
          authorId: user.id, authorName: user.displayName, ...target(ctx, a.channel), status: 'active', createdAt: now.toISOString(),
          nextFireAt: next.toISOString(), version: 1,
        };
        ctx.transactional(async (tx) => void (await service.store.insert(tx, s)), service.kick);
        return {
          title: `⏰ Scheduled ${s.name ? `"${s.name}" ` : ''}(${s.id}): ${spec}`,
          text: `Runs \`${s.command}\` as ${user.displayName}, with your roles checked again each time; results go to ${s.platform}:${s.channel}.\nNext run: ${formatInZone(next, tz)}.`,
          severity: 'success',
          visibility: 'channel',
          fields: [{ name: 'Cron', value: `${cron} (${tz})`, inline: true }],
          data: { changed: true, schedule: toScheduleData(s) },
        };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'List schedules and pending reverts of time-limited actions.',
      options: z.object({ all: z.boolean().default(false).describe('Include removed schedules and finished reverts') }),
      role: 'viewer',
      examples: ['schedule list', 'schedule list --all'],
      data: z.object({ schedules: z.array(scheduleData) }),
      handler: async ({ all }, ctx) => {
        const rows = await schedulesOf(ctx).store.list(all ? {} : { statuses: ['active', 'paused', 'stopped'] });
        return {
          title: rows.length ? plural(rows.length, 'schedule') : 'No schedules',
          ...(rows.length
            ? {
                table: {
                  columns: ['id', 'name', 'when', 'command', 'by', 'next / status', 'last'],
                  rows: rows.map((s) => [s.id, s.kind === 'revert' ? '(revert)' : (s.name ?? ''), when(s), s.command, s.authorName, nextText(s), s.lastOutcome ?? '']),
                },
              }
            : { text: 'Add one with `schedule add "daily 02:00" "<command>"`.' }),
          data: { schedules: rows.map(toScheduleData) },
        };
      },
    }),
    defineSubcommand({
      name: 'show',
      summary: 'One schedule: what it runs, as whom, its next 5 fire times in its zone and its recent runs.',
      options: z.object({ id: idOption }),
      positionals: ['id'],
      role: 'viewer',
      examples: ['schedule show k3j9x2ab'],
      data: z.object({
        schedule: scheduleData,
        upcoming: z.array(isoTime).describe('The next fire times (at most 5)'),
        recentRuns: z.array(z.object({ fireAt: isoTime, ranAt: isoTime, outcome: z.string(), detail: z.string().nullable() })),
      }),
      handler: async ({ id }, ctx) => {
        const s = await find(ctx, id);
        const upcoming = s.status !== 'active' ? [] : s.cron ? nextFireTimes(s.cron, s.tz, new Date(Date.parse(s.nextFireAt ?? ctx.now().toISOString()) - 1), 5) : s.nextFireAt ? [new Date(s.nextFireAt)] : [];
        const firings = await schedulesOf(ctx).store.firings(s.id, 5);
        return {
          title: `Schedule ${s.name ? `"${s.name}" ` : ''}${s.id} · ${s.status}`,
          fields: [
            // A field, not text: the console prints text after the fields, where it read as one more run.
            { name: 'Command', value: `\`${s.command}\`` },
            { name: 'When', value: s.cron ? `${s.spec} · cron \`${s.cron}\` · ${s.tz}` : when(s), inline: true },
            { name: 'Runs as', value: s.kind === 'revert' ? `system on behalf of ${s.authorName}` : `${s.authorName} (${s.authorId})`, inline: true },
            { name: 'Posts to', value: `${s.platform}:${s.channel}`, inline: true },
            ...(s.statusReason ? [{ name: 'Why ' + s.status, value: s.statusReason }] : []),
            { name: `Next ${upcoming.length || ''} fire times`.replace('  ', ' '), value: upcoming.map((d) => formatInZone(d, s.tz)).join('\n') || `none (${s.status})` },
            { name: 'Recent runs', value: firings.map((f) => `${formatInZone(new Date(f.fireAt), s.tz)}: ${f.outcome}${f.detail ? ` · ${f.detail}` : ''}`).join('\n') || 'none yet' },
          ],
          data: {
            schedule: toScheduleData(s),
            upcoming: upcoming.map((d) => d.toISOString()),
            recentRuns: firings.map((f) => ({ fireAt: f.fireAt, ranAt: f.ranAt, outcome: f.outcome, detail: f.detail ?? null })),
          },
        };
      },
    }),
    defineSubcommand({
      name: 'pause',
      summary: 'Pause a schedule (it skips its runs until resumed).',
      options: z.object({ id: idOption }),
      positionals: ['id'],
      role: 'operator',
      examples: ['schedule pause k3j9x2ab'],
      data: one,
      handler: async ({ id }, ctx) => {
        const s = await find(ctx, id);
        mayChange(ctx, s);
        if (s.kind === 'revert') throw usage(`${s.id} is the revert of a time-limited action; cancel it with \`schedule remove ${s.id}\`.`);
        if (s.status === 'paused') return { title: `Schedule ${s.id} was already paused`, text: 'Nothing changed.', data: { changed: false, schedule: toScheduleData(s) } };
        const next: Schedule = { ...s, status: 'paused', statusReason: `paused by ${ctx.invocation.user.displayName}` };
        write(ctx, next);
        return { title: `⏸️ Schedule ${s.name ? `"${s.name}" ` : ''}${s.id} paused`, text: `\`${s.command}\` will not run until \`schedule resume ${s.id}\`.`, visibility: 'channel', severity: 'success', data: { changed: true, schedule: toScheduleData(next) } };
      },
    }),
    defineSubcommand({
      name: 'resume',
      summary: 'Resume a paused or stopped schedule from its next fire time (missed runs are not made up).',
      options: z.object({ id: idOption }),
      positionals: ['id'],
      role: 'operator',
      examples: ['schedule resume k3j9x2ab'],
      data: one,
      handler: async ({ id }, ctx) => {
        const s = await find(ctx, id);
        mayChange(ctx, s);
        if (s.kind === 'revert' || !s.cron) throw usage(`${s.id} is not a recurring schedule.`);
        if (s.status === 'active') return { title: `Schedule ${s.id} is already running`, text: 'Nothing changed.', data: { changed: false, schedule: toScheduleData(s) } };
        const next = nextFireTimes(s.cron, s.tz, ctx.now(), 1)[0]!;
        const { statusReason: _old, ...rest } = s;
        const resumed: Schedule = { ...rest, status: 'active', nextFireAt: next.toISOString() };
        write(ctx, resumed);
        return {
          title: `▶️ Schedule ${s.name ? `"${s.name}" ` : ''}${s.id} resumed`,
          text: `Next run: ${formatInZone(next, s.tz)}, as ${s.authorName}${s.status === 'stopped' ? ' (their roles are checked again then; it stops again if they still lack the role)' : ''}.`,
          visibility: 'channel',
          severity: 'success',
          data: { changed: true, schedule: toScheduleData(resumed) },
        };
      },
    }),
    defineSubcommand({
      name: 'remove',
      summary: 'Delete a schedule, or cancel the pending revert of a time-limited action.',
      options: z.object({ id: idOption }),
      positionals: ['id'],
      role: 'operator',
      examples: ['schedule remove k3j9x2ab'],
      data: one,
      handler: async ({ id }, ctx) => {
        const s = await find(ctx, id);
        mayChange(ctx, s);
        const removed: Schedule = { ...s, status: 'removed', statusReason: `removed by ${ctx.invocation.user.displayName}` };
        write(ctx, removed);
        const data = { changed: true, schedule: toScheduleData(removed) };
        return s.kind === 'revert'
          ? { title: `Revert ${s.id} cancelled`, text: `\`${s.command}\` will not run; the change stays until someone undoes it.`, visibility: 'channel', severity: 'warning', data }
          : { title: `🗑️ Schedule ${s.name ? `"${s.name}" ` : ''}${s.id} removed`, text: `\`${s.command}\` (${when(s)}) will not run again.`, visibility: 'channel', severity: 'success', data };
      },
    }),
  ],
});
