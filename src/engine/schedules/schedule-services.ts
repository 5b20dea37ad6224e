import type { CommandContext } from '../../framework/command-context.js';
import type { RevertGuard, ScheduleStore } from '../../store/schedule-store.js';
import { UserError, usage } from '../../user-error.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { shortId } from '../../util/ids.js';
import { quoteForMessage as q } from '../../util/quote-for-message.js';
import { opt } from '../../framework/define-command.js';
import { nextFireTimes } from './next-fire-times.js';
import { formatInZone } from '../../util/format-in-zone.js';

/** What command handlers need of scheduling: the store, the defaults and a nudge for the runner. */
export interface ScheduleService {
  store: ScheduleStore;
  /** Default zone (config `schedules.timezone`). */
  timezone: string;
  misfireGraceMs: number;
  /** Wakes the runner after a commit changed schedules (it also polls). */
  kick(): void;
}

declare module '../../framework/command-context.js' {
  interface CommandServices {
    schedules?: ScheduleService;
  }
}

/** The longest a time-limited action may last before it reverts. */
export const MAX_REVERT_MS = 30 * 86_400_000;

export function schedulesOf(ctx: Pick<CommandContext, 'services'>): ScheduleService {
  const s = ctx.services?.schedules;
  if (!s) throw new UserError('infra_invalid_state', 'Schedules are not available in this process (they need the SQLite store).');
  return s;
}

/** When `--for 30m` or `--until 18:00` (today or tomorrow in the zone, or an ISO time) ends. */
export function revertTime(when: { for?: string | undefined; until?: string | undefined }, now: Date, tz: string): Date {
  if (when.for !== undefined && when.until !== undefined) throw usage('Give --for or --until, not both.');
  let at: Date;
  if (when.for !== undefined) {
    const ms = parseDuration(when.for);
    if (!ms) throw usage(`--for takes a duration such as 30m, 1h or 2h30m, not ${q(when.for)}.`);
    at = new Date(now.getTime() + ms);
  } else {
    const text = (when.until ?? '').trim();
    const hm = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text);
    if (hm) at = nextFireTimes(`${Number(hm[2])} ${Number(hm[1])} * * *`, tz, now, 1)[0]!;
    else if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text))) at = new Date(text);
    else throw usage(`--until takes a time of day such as 18:00 (in ${tz}) or an ISO time such as 2026-12-24T18:00Z, not ${q(text)}.`);
    if (at.getTime() <= now.getTime()) throw usage(`--until ${text} is in the past.`);
  }
  if (at.getTime() - now.getTime() > MAX_REVERT_MS) {
    throw usage(`A time-limited action may last at most ${formatDuration(MAX_REVERT_MS)}; ${q(when.for ?? when.until ?? '')} is longer.`, 'Leave out --for/--until and undo it by hand, or schedule the undo with `schedule add`.');
  }
  return at;
}

/**
 * Registers the automatic undo of the change this command makes, in the command's own transaction: a
 * one-shot schedule run by `system` on behalf of the author. Returns the sentence for the reply.
 */
export function revertLater(ctx: CommandContext, at: Date, undo: { command: string; guard: Omit<RevertGuard, 'at'>; what: string }): string {
  const service = schedulesOf(ctx);
  const user = ctx.invocation.user;
  const id = shortId(8);
  const row = {
    id,
    kind: 'revert' as const,
    spec: `at ${at.toISOString()}`,
    tz: service.timezone,
    command: undo.command,
    authorId: user.id,
    authorName: user.displayName,
    ...target(ctx),
    status: 'active' as const,
    createdAt: ctx.change.at,
    nextFireAt: at.toISOString(),
    guard: { ...undo.guard, at: ctx.change.at },
    version: 1,
  };
  ctx.transactional(async (tx) => void (await service.store.insert(tx, row)), service.kick);
  return `⏲️ ${undo.what} automatically at ${formatInZone(at, service.timezone)} (in ${formatDuration(at.getTime() - ctx.now().getTime())}; revert ${id}, cancel with \`schedule remove ${id}\`).`;
}

/** Where a schedule's results go: `--channel slack:C123`, a bare channel on the author's platform, or here. */
export function target(ctx: Pick<CommandContext, 'invocation'>, channel?: string): { platform: string; channel: string } {
  const { platform, channel: here } = ctx.invocation;
  const own = platform === 'cli' || platform === 'schedule' || platform === 'system' || platform === 'http' ? 'console' : platform;
  const parse = (c: string) => {
    const m = /^(slack|discord|console):(.+)$/.exec(c);
    return m ? { platform: m[1]!, channel: m[2]!.replace(/^#/, '') } : { platform: own, channel: c.replace(/^#/, '') };
  };
  if (channel) return parse(channel);
  // A firing's invocation carries its schedule's qualified channel, so what it schedules posts there too.
  return here ? parse(here) : { platform: own, channel: 'console' };
}

/** The `--for` / `--until` options of a time-limited action (killswitch on, cluster disable, ratelimit set). */
export const timeLimitOptions = {
  for: opt.duration('Revert automatically after this long, e.g. 30m or 1h').optional(),
  until: opt.time('Revert automatically at this time, e.g. 18:00 (config time zone) or 2026-12-24T18:00Z').optional(),
};

/**
 * For a time-limited action: checks --for/--until and registers the revert with the command. Returns the
 * sentence to add to the reply ('' when the action is not time-limited). Call it only when the change happened.
 */
export function revertIfLimited(
  ctx: CommandContext,
  a: { for?: string | undefined; until?: string | undefined },
  undo: { command: (reason: string) => string; guard: Omit<RevertGuard, 'at'>; what: string },
): string {
  if (a.for === undefined && a.until === undefined) return '';
  const at = revertTime(a, ctx.now(), schedulesOf(ctx).timezone);
  const how = a.for !== undefined ? `--for ${a.for}` : `--until ${a.until}`;
  return revertLater(ctx, at, { ...undo, command: undo.command(`automatic revert (${how}, set by ${ctx.invocation.user.id})`) });
}

/** Checks --for/--until before anything changes, so a bad value never leaves an unlimited change behind. */
export function checkTimeLimit(ctx: CommandContext, a: { for?: string | undefined; until?: string | undefined }): void {
  if (a.for !== undefined || a.until !== undefined) revertTime(a, ctx.now(), schedulesOf(ctx).timezone);
}
