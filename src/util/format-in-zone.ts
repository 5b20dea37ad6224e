// Building a formatter costs far more than using one; a bot uses a handful of zones.
const formats = new Map<string, Intl.DateTimeFormat>();
const zoneFormat = (tz: string): Intl.DateTimeFormat => {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short', weekday: 'short',
    });
    if (formats.size < 100) formats.set(tz, f);
  }
  return f;
};

/** A time in a zone as people read it: "2026-03-29 03:00 CEST". */
export function formatInZone(at: Date, tz: string): string {
  const parts = zoneFormat(tz).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('weekday')} ${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}
