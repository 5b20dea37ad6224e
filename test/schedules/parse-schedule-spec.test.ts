import { describe, expect, it } from 'vitest';
import { nextFireTimes } from '../../src/engine/schedules/next-fire-times.js';
import { parseScheduleSpec } from '../../src/engine/schedules/parse-schedule-spec.js';
import { formatInZone } from '../../src/util/format-in-zone.js';

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

describe('schedule specs', () => {
  it.each([
    ['daily 02:00', '0 2 * * *'],
    ['weekdays 09:00', '0 9 * * 1-5'],
    ['weekly mon 09:30', '30 9 * * 1'],
    ['every 15m', '*/15 * * * *'],
    ['every 2h', '0 */2 * * *'],
    ['hourly', '0 * * * *'],
    ['  30   2 * * *  ', '30 2 * * *'],
  ])('"%s" → %s', (spec, cron) => {
    expect(parseScheduleSpec(spec, 'UTC').cron).toBe(cron);
  });

  it.each([
    ['61 * * * *', '"61 * * * *" is not a valid cron pattern: Invalid value for minute: 61.'],
    ['* * *', 'exactly five fields, this has 3'],
    ['0 0 * * * *', 'exactly five fields, this has 6'],
    ['daily 25:00', 'expected a time of day as HH:MM (00:00 to 23:59), not "25:00"'],
    ['daily', '"daily" is not a valid shortcut'],
    ['every 7m', '"every" takes minutes that divide an hour'],
    ['weekly someday 09:00', 'expected a weekday (mon … sun) after "weekly", not "someday"'],
    ['0 0 31 2 *', 'never fires'],
    ['', 'The schedule is empty'],
  ])('refuses "%s" clearly', (spec, message) => {
    expect(() => parseScheduleSpec(spec, 'UTC')).toThrow(message);
  });

  it('echoes a long paste clipped, never whole', () => {
    const paste = 'x'.repeat(5000);
    expect(() => parseScheduleSpec(`daily ${paste}`, 'UTC')).toThrow(/^"daily x{34}…" \(5,006 characters\): expected a time of day/);
  });

  it('refuses an unknown time zone by name', () => {
    expect(() => parseScheduleSpec('daily 02:00', 'Europe/Berlinn')).toThrow('Unknown time zone "Europe/Berlinn"');
  });
});

describe('daylight saving time', () => {
  it('Europe/Berlin: 02:30 on the spring-forward day runs once, at 03:00 local', () => {
    const times = nextFireTimes('30 2 * * *', 'Europe/Berlin', new Date('2026-03-28T12:00:00Z'), 3);
    expect(iso(times)).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z']);
    expect(formatInZone(times[0]!, 'Europe/Berlin')).toBe('Sun 2026-03-29 03:00 CEST');
  });

  it('Europe/Berlin: 02:30 on the fall-back day (02:00–03:00 happens twice) runs once', () => {
    const times = nextFireTimes('30 2 * * *', 'Europe/Berlin', new Date('2026-10-24T12:00:00Z'), 2);
    expect(iso(times)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('America/New_York: 02:30 on the spring-forward day runs at 03:00 EDT; 01:30 on the fall-back day once', () => {
    expect(iso(nextFireTimes('30 2 * * *', 'America/New_York', new Date('2026-03-07T12:00:00Z'), 2))).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
    expect(iso(nextFireTimes('30 1 * * *', 'America/New_York', new Date('2026-10-31T12:00:00Z'), 2))).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('weekdays 09:00 stays at 09:00 local across a change (the UTC hour moves)', () => {
    const times = nextFireTimes('0 9 * * 1-5', 'Europe/Berlin', new Date('2026-03-26T12:00:00Z'), 2);
    expect(iso(times)).toEqual(['2026-03-27T08:00:00.000Z', '2026-03-30T07:00:00.000Z']);
  });
});
