import type { InfrabotConfig } from '../../config/config-schema.js';
import type { HealthStore } from '../../store/health-store.js';
import type { Store } from '../../store/store.js';
import { describeEvent } from '../control-events.js';

export interface ClusterUptime {
  cluster: string;
  /** Percentage of successful probes, undefined without probes in the period. */
  uptime?: number;
  probes: number;
}

export interface Summary {
  since: string;
  until: string;
  clusters: ClusterUptime[];
  alertsFired: number;
  alertsResolved: number;
  incidentsOpened: number;
  incidentsResolved: number;
  /** Mean time from declaring to acknowledging (ms), over incidents opened in the period. */
  mttaMs?: number;
  /** Mean time from declaring to resolving (ms), over incidents resolved in the period. */
  mttrMs?: number;
  /** Control changes, oldest first: who flipped which switch, limit or breaker. */
  changes: { at: string; actor: string; what: string }[];
  /** Alerts fired per bucket (an hour for periods up to two days, else a day), for the chart. */
  buckets: { start: string; alerts: number }[];
  bucketMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/** The numbers of a summary post, from the stores (health history, alerts, incidents, control events). */
export async function computeSummary(deps: { health: HealthStore; store: Store; config: InfrabotConfig }, q: { since: Date; until: Date; cluster?: string; canSee: (cluster: string | undefined) => boolean }): Promise<Summary> {
  const since = q.since.toISOString();
  const until = q.until.toISOString();
  const visible = (c: string | undefined) => (q.cluster ? c === q.cluster : q.canSee(c));
  const clusters: ClusterUptime[] = [];
  for (const [name, c] of Object.entries(deps.config.clusters).sort(([a], [b]) => a.localeCompare(b))) {
    if (!visible(name)) continue;
    let total = 0;
    let ok = 0;
    for (const check of c.checks) {
      const s = await deps.health.stats(check.name, since);
      total += s.total;
      ok += s.ok;
    }
    clusters.push({ cluster: name, probes: total, ...(total ? { uptime: (100 * ok) / total } : {}) });
  }
  const inPeriod = (t: string | undefined) => t !== undefined && t >= since && t <= until;
  const alerts = (await deps.health.alerts({ since, limit: 100_000 })).filter((a) => a.firedAt <= until && visible(a.cluster));
  const resolved = (await deps.health.alertEvents({ after: since, until })).filter((e) => e.type === 'resolved' && visible(e.cluster));
  const incidents = (await deps.health.incidents({})).filter((i) => i.cluster === undefined ? !q.cluster && q.canSee(undefined) : visible(i.cluster));
  const opened = incidents.filter((i) => inPeriod(i.declaredAt));
  const closed = incidents.filter((i) => inPeriod(i.resolvedAt));
  const changes = (await deps.store.events({ after: since, until }))
    .filter((e) => !e.event.type.startsWith('role.') && (e.scope === 'global' || visible(e.scope)))
    .map((e) => ({ at: e.at, actor: e.actor, what: describeEvent(e.event) }));
  const bucketMs = q.until.getTime() - q.since.getTime() <= 2 * DAY ? HOUR : DAY;
  const first = Math.floor(q.since.getTime() / bucketMs) * bucketMs;
  const buckets: Summary['buckets'] = [];
  for (let t = first; t < q.until.getTime(); t += bucketMs) buckets.push({ start: new Date(t).toISOString(), alerts: 0 });
  for (const a of alerts) {
    const b = buckets[Math.floor((Date.parse(a.firedAt) - first) / bucketMs)];
    if (b) b.alerts++;
  }
  const mtta = mean(opened.filter((i) => i.ackedAt).map((i) => Date.parse(i.ackedAt!) - Date.parse(i.declaredAt)));
  const mttr = mean(closed.map((i) => Date.parse(i.resolvedAt!) - Date.parse(i.declaredAt)));
  return {
    since, until, clusters,
    alertsFired: alerts.length,
    alertsResolved: resolved.length,
    incidentsOpened: opened.length,
    incidentsResolved: closed.length,
    ...(mtta !== undefined ? { mttaMs: mtta } : {}),
    ...(mttr !== undefined ? { mttrMs: mttr } : {}),
    changes,
    buckets,
    bucketMs,
  };
}
