import { Cron } from 'croner';

/** The next `n` fire times strictly after `after`, in UTC; DST gaps and overlaps are croner's (see docs/schedules.md). */
export function nextFireTimes(cron: string, tz: string, after: Date, n: number): Date[] {
  const c = new Cron(cron, { timezone: tz, paused: true });
  const out: Date[] = [];
  let from = after;
  for (let i = 0; i < n; i++) {
    const next = c.nextRun(from);
    if (!next) break;
    out.push(next);
    from = next;
  }
  c.stop();
  return out;
}
