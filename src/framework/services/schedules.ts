import type { CommandContext } from '../command-context.js';
import type { RevertGuard } from '../../store/schedule-store.js';
import { UserError } from '../../user-error.js';
import { formatDuration } from '../../util/duration.js';
import { shortId } from '../../util/ids.js';
import { formatInZone } from '../../util/format-in-zone.js';
import { opt } from '../define-command.js';
import { revertTime, type ScheduleService } from '../../engine/schedules/schedule-services.js';

// Scheduling for command handlers (`ctx.services.schedules`), and the helpers of time-limited actions.
declare module '../command-context.js' {
  interface CommandServices {
    schedules?: ScheduleService;
  }
}

export function schedulesOf(ctx: Pick<CommandContext, 'services'>): ScheduleService {
  const s = ctx.services?.schedules;
  if (!s) throw new UserError('infra_invalid_state', 'Schedules are not available in this process (they need the SQLite store).');
  return s;
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
