import type { ScheduleStore } from '../../store/schedule-store.js';
import { usage } from '../../user-error.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { quoteForMessage as q } from '../../util/quote-for-message.js';
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

/** The longest a time-limited action may last before it reverts. */
export const MAX_REVERT_MS = 30 * 86_400_000;

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

