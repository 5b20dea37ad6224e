/** Durations as people type them in chat and config: 90s, 15m, 2h, 7d, 1w, or combined (1h30m). */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (!/^(\d+(?:\.\d+)?(ms|s|m|h|d|w))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** A point in time: ISO 8601, or relative to now ("2h" or "2h ago" means two hours before now). */
export function parseTimeRef(text: string, now: Date): Date | undefined {
  const rel = parseDuration(text.replace(/\s*ago$/i, ''));
  if (rel !== undefined) {
    const d = new Date(now.getTime() - rel);
    return Number.isNaN(d.getTime()) ? undefined : d; // "999999999999d ago" is before time began
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const d = new Date(text.trim());
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** `now` moved by `ms` (negative: into the past), or undefined when that is beyond representable dates. */
export function shiftTime(now: Date, ms: number): Date | undefined {
  const d = new Date(now.getTime() + ms);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
