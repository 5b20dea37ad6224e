import { Cron } from 'croner';
import type { RecurringWindow } from '../../config/health-config-schema.js';
import { parseDuration } from '../../util/duration.js';

const DOW: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** The cron pattern of a window: given, or built from weekdays + local start time. */
export function windowPattern(w: RecurringWindow): string {
  if (w.cron) return w.cron;
  const [hh, mm] = (w.start ?? '00:00').split(':');
  const days = w.days?.length ? w.days.map((d) => DOW[d]).join(',') : '*';
  return `${Number(mm)} ${Number(hh)} * * ${days}`;
}

/**
 * When the window is open at `now`, the time it opened and closes. A window is open when an occurrence
 * of its pattern (in its time zone, so DST and offsets are the zone's) lies within `duration` before now.
 */
export function openWindow(w: RecurringWindow, now: Date): { from: Date; until: Date } | undefined {
  const length = parseDuration(w.duration) ?? 0;
  const cron = new Cron(windowPattern(w), { timezone: w.timezone, paused: true });
  // The first occurrence after (now − duration − 1 ms); open if it is not after now.
  const from = cron.nextRun(new Date(now.getTime() - length - 1));
  cron.stop();
  if (!from || from.getTime() > now.getTime()) return undefined;
  return { from, until: new Date(from.getTime() + length) };
}

/** Validates a pattern at config load time (croner throws on a bad one). */
export function checkPattern(w: RecurringWindow): string | undefined {
  try {
    new Cron(windowPattern(w), { timezone: w.timezone, paused: true }).stop();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
