import { Cron } from 'croner';
import { usage } from '../../user-error.js';
import { quoteForMessage as q } from '../../util/quote-for-message.js';

/** A validated schedule: the croner pattern it runs on and the words the user typed. */
export interface ScheduleSpec {
  cron: string;
  /** What the user typed, kept for list/show ("weekdays 09:00"). */
  spec: string;
}

const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const HELP =
  'Use five cron fields (minute hour day-of-month month weekday, e.g. "30 2 * * *") or a shortcut: ' +
  '"daily 02:00", "weekdays 09:00", "weekly mon 09:00", "hourly", "every 15m", "every 2h".';

function clock(text: string | undefined, spec: string): { h: number; m: number } {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text ?? '');
  if (!m) throw usage(`${q(spec)}: expected a time of day as HH:MM (00:00 to 23:59), not ${q(text ?? '')}.`, HELP);
  return { h: Number(m[1]), m: Number(m[2]) };
}

/** Cron for a shortcut, or undefined when the text is not one. */
function shortcut(spec: string): string | undefined {
  const words = spec.trim().toLowerCase().split(/\s+/);
  const [first, second, third] = words;
  if (first === 'hourly' && words.length === 1) return '0 * * * *';
  if ((first === 'daily' || first === 'weekdays') && words.length === 2) {
    const t = clock(second, spec);
    return `${t.m} ${t.h} * * ${first === 'daily' ? '*' : '1-5'}`;
  }
  if (first === 'weekly' && words.length === 3) {
    const day = DAYS[(second ?? '').slice(0, 3)];
    if (day === undefined) throw usage(`${q(spec)}: expected a weekday (mon … sun) after "weekly", not ${q(second ?? '')}.`, HELP);
    const t = clock(third, spec);
    return `${t.m} ${t.h} * * ${day}`;
  }
  if (first === 'every' && words.length === 2) {
    const m = /^(\d+)(m|h)$/.exec(second ?? '');
    const n = m ? Number(m[1]) : NaN;
    // Only steps that divide the hour (or day) evenly, so "every 15m" means :00, :15, :30, :45 every hour.
    if (m?.[2] === 'm' && n >= 1 && n < 60 && 60 % n === 0) return n === 1 ? '* * * * *' : `*/${n} * * * *`;
    if (m?.[2] === 'h' && n >= 1 && n <= 12 && 24 % n === 0) return n === 1 ? '0 * * * *' : `0 */${n} * * *`;
    throw usage(
      `${q(spec)}: "every" takes minutes that divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30m) or hours that divide a day (1, 2, 3, 4, 6, 8, 12h).`,
      'For other rhythms write the cron pattern yourself.',
    );
  }
  if (['hourly', 'daily', 'weekdays', 'weekly', 'every'].includes(first ?? '')) {
    throw usage(`${q(spec)} is not a valid shortcut.`, HELP);
  }
  return undefined;
}

/** Checks an IANA time zone name (Europe/Berlin, America/New_York, UTC). */
export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw usage(`Unknown time zone ${q(tz)}.`, 'Use an IANA name such as UTC, Europe/Berlin or America/New_York.');
  }
}

/** Parses a cron pattern or shortcut; bad input becomes a usage error naming the value. */
export function parseScheduleSpec(input: string, tz: string): ScheduleSpec {
  const spec = input.trim().replace(/\s+/g, ' ');
  if (!spec) throw usage('The schedule is empty.', HELP);
  checkTimeZone(tz);
  const cron = shortcut(spec) ?? spec;
  // Five fields only: croner would also take seconds and years, which a chat bot has no business running.
  if (cron.split(' ').length !== 5) throw usage(`${q(spec)} is not a schedule: a cron pattern has exactly five fields, this has ${cron.split(' ').length}.`, HELP);
  try {
    const c = new Cron(cron, { timezone: tz, paused: true });
    const first = c.nextRun();
    c.stop();
    if (!first) throw usage(`${q(spec)} never fires (no such date).`, HELP);
  } catch (err) {
    if (err instanceof Error && err.name === 'UserError') throw err;
    const why = (err instanceof Error ? err.message : String(err)).replace(/^CronPattern: /, '');
    throw usage(`${q(spec)} is not a valid cron pattern: ${why}.`, HELP);
  }
  return { cron, spec };
}
