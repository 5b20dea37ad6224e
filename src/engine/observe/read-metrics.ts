import type { HealthStore } from '../../store/health-store.js';
import { getJson } from './read-logs.js';
import type { Series } from './series.js';

/** About this many points per line: detailed enough on a phone, light on Prometheus. */
const POINTS = 120;

/** Prometheus HTTP API `query_range`, one series per result (named by its labels). */
export async function promRange(base: string, query: string, from: Date, to: Date): Promise<Series[]> {
  const step = Math.max(1, Math.round((to.getTime() - from.getTime()) / 1000 / POINTS));
  const url = `${base.replace(/\/$/, '')}/api/v1/query_range?query=${encodeURIComponent(query)}&start=${from.getTime() / 1000}&end=${to.getTime() / 1000}&step=${step}`;
  const body = (await getJson(url, 'Prometheus')) as { data?: { result?: { metric?: Record<string, string>; values?: [number, string][] }[] } };
  return (body.data?.result ?? []).map((r) => {
    const labels = Object.entries(r.metric ?? {}).filter(([k]) => k !== '__name__');
    return {
      name: labels.map(([k, v]) => `${k}=${v}`).join(',') || query,
      points: (r.values ?? []).map(([t, v]) => ({ t: t * 1000, v: Number(v) })).filter((p) => Number.isFinite(p.v)),
    };
  });
}

/** infrabot's own probe history: latency of each check (failed probes left out). */
export async function probeLatency(health: HealthStore, checks: readonly string[], from: Date): Promise<Series[]> {
  return Promise.all(
    checks.map(async (check) => ({
      name: check,
      points: (await health.results(check, from.toISOString(), 10_000)).filter((r) => r.ok).map((r) => ({ t: Date.parse(r.at), v: r.latencyMs })).sort((a, b) => a.t - b.t),
    })),
  );
}
