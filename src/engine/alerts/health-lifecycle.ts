import type { HealthBatch } from '../../store/health-store.js';
import type { LifecycleEvent } from '../lifecycle-events.js';
import { shortId } from '../../util/ids.js';

/**
 * The lifecycle events a committed health batch stands for: alerts that fired (new rows) or resolved, and
 * incidents declared or changed. The one place health decisions become post-commit events; call it only
 * once the batch's unit of work has committed.
 */
export function healthLifecycleEvents(b: HealthBatch, at: string, traceId = shortId()): LifecycleEvent[] {
  const events: LifecycleEvent[] = [];
  for (const a of b.alerts ?? []) {
    if (a.status === 'firing' && a.version === undefined) {
      events.push({ type: 'alert.fired', traceId, alertId: a.id, check: a.check, cluster: a.cluster, severity: a.severity, at: a.firedAt });
    } else if (a.status === 'resolved' && a.version !== undefined) {
      events.push({ type: 'alert.resolved', traceId, alertId: a.id, check: a.check, cluster: a.cluster, at: a.resolvedAt ?? at });
    }
  }
  const incidents = new Map([...(b.declared ?? []), ...(b.incidents ?? [])].map((i) => [i.id, i]));
  const actors = new Map((b.timeline ?? []).map((t) => [t.incidentId, t.actor]));
  for (const i of incidents.values()) {
    // A reminder moves nextReminderAt only (no timeline entry): not a change anyone subscribes to.
    if (!actors.has(i.id)) continue;
    events.push({ type: 'incident.changed', traceId, incidentId: String(i.id), status: i.status, ...(i.cluster ? { cluster: i.cluster } : {}), at: i.lastUpdateAt, actor: actors.get(i.id)! });
  }
  return events;
}
