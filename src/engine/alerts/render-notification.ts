import type { Reply, ReplyButton, Severity } from '../message.js';
import type { Alert, ExternalAlertInfo, HealthStore, Incident, Notification } from '../../store/health-store.js';
import type { Store } from '../../store/store.js';
import { formatDuration } from '../../util/duration.js';
import { formatTime } from '../../util/format-time.js';
import { shortId } from '../../util/ids.js';

/** A reply not produced by a command (alerts, incident threads): the outbox renders these. */
export function systemReply(r: Omit<Reply, 'outcome' | 'traceId' | 'time' | 'visibility'>, at: Date): Reply {
  return { visibility: 'channel', ...r, outcome: 'ok', traceId: shortId(), time: at.toISOString() };
}

const stamp = formatTime;

const WAS: Record<Alert['kind'], string> = { down: 'was DOWN', degraded: 'was slow (DEGRADED)', cert: 'had a certificate warning', external: 'fired' };
const NOW: Record<Alert['kind'], string> = { down: 'now UP again', degraded: 'latency is back to normal', cert: 'the certificate was renewed', external: 'now resolved' };
/** A storm's message lists this many alerts and counts the rest. */
const MAX_LINES = 25;
const MAX_LINKS = 5;

const SOURCE: Record<ExternalAlertInfo['source'], string> = { alertmanager: 'Alertmanager', grafana: 'Grafana', budget: 'infrabot budgets' };

/** When the alert began: the sender's `startsAt` for a received alert (it may predate the webhook), else when it fired here. */
export function alertStartedAt(a: Pick<Alert, 'firedAt' | 'external'>): string {
  return a.external?.startsAt ?? a.firedAt;
}

/**
 * What happened to a resolved alert, in words ("api-http was DOWN for 50s, now UP again"), never its firing
 * summary ("api-http is DOWN") next to a tick. A hand-resolved alert says so: the check may still be failing.
 * A received alert resolved by its sender says where, and lasted from its startsAt to its endsAt.
 */
export function describeResolvedAlert(a: Pick<Alert, 'check' | 'kind' | 'firedAt' | 'resolvedAt' | 'resolvedBy' | 'external'>): string {
  const start = alertStartedAt(a);
  const age = formatDuration(Math.max(0, Date.parse(a.external?.endsAt ?? a.resolvedAt ?? start) - Date.parse(start)));
  if (a.external && a.resolvedBy === a.external.source) return `${a.check} resolved in ${SOURCE[a.external.source]} after ${age}`;
  if (a.resolvedBy && a.resolvedBy !== 'system') return `${a.check} ${WAS[a.kind]}; the alert was closed by hand by ${a.resolvedBy} after ${age}`;
  return `${a.check} ${WAS[a.kind]} for ${age}, ${NOW[a.kind]}`;
}

function alertLine(a: Alert, now: Date): string {
  const ref = ` · alert ${a.id}${a.incidentId ? ` · INC-${a.incidentId}` : ''}`;
  if (a.status === 'resolved') return `✅ ${describeResolvedAlert(a)}${ref}`;
  const icon = a.severity === 'critical' ? '🔴' : '🟡';
  const ack = a.ackedBy ? ` · acked by ${a.ackedBy}` : '';
  const source = a.external ? ` · ${a.check} from ${a.external.source}` : '';
  return `${icon} ${a.summary} (firing for ${formatDuration(Math.max(0, now.getTime() - Date.parse(alertStartedAt(a))))}${ack})${source}${ref}`;
}

/** Alert lines, at most MAX_LINES (firing first), then how many more and how many the sender left out. */
function alertLines(alerts: readonly Alert[], now: Date): string {
  const ordered = [...alerts.filter((a) => a.status === 'firing'), ...alerts.filter((a) => a.status !== 'firing')];
  const lines = ordered.slice(0, MAX_LINES).map((a) => alertLine(a, now));
  if (ordered.length > MAX_LINES) lines.push(`… and ${ordered.length - MAX_LINES} more (\`alert list\` shows them all)`);
  const truncated = Math.max(0, ...alerts.map((a) => a.external?.truncated ?? 0));
  if (truncated > 0) lines.push(`⚠️ ${truncated} more alerts were left out by the sender (truncatedAlerts): see the source for all of them`);
  const first = ordered[0];
  if (ordered.length === 1 && first?.external?.description) lines.push(first.external.description);
  return lines.join('\n');
}

/** Link buttons of the firing received alerts (runbook, dashboard, source), one per URL, and the first image. */
function externalExtras(firing: readonly Alert[]): Pick<Reply, 'links' | 'imageUrl'> {
  const seen = new Set<string>();
  const links = firing.flatMap((a) => a.external?.links ?? []).filter((l) => !seen.has(l.url) && seen.add(l.url)).slice(0, MAX_LINKS);
  const imageUrl = firing.find((a) => a.external?.imageUrl)?.external?.imageUrl;
  return { ...(links.length ? { links } : {}), ...(imageUrl ? { imageUrl } : {}) };
}

/** Renders a notification from the store's current state, so an update always shows the latest truth. */
export async function renderNotification(n: Notification, deps: { health: HealthStore; store: Store; now: Date; buttonTtlMs?: number }): Promise<Reply> {
  if (n.kind === 'incident') {
    const inc = n.incidentId !== undefined ? await deps.health.incident(n.incidentId) : undefined;
    if (!inc) return systemReply({ title: 'Incident not found', severity: 'warning' }, deps.now);
    return renderIncidentHeader(inc, deps.now);
  }
  const alerts = await deps.health.alerts({ notificationId: n.id });
  const firing = alerts.filter((a) => a.status === 'firing');
  const critical = firing.some((a) => a.severity === 'critical');
  const severity: Severity = firing.length === 0 ? 'success' : critical ? 'critical' : 'warning';
  const title =
    firing.length === 0
      ? `✅ RESOLVED · ${n.cluster}: ${alerts.length === 1 ? (alerts[0]!.external ? alerts[0]!.check : `${alerts[0]!.check} ${alerts[0]!.kind}`) : `all ${alerts.length} alerts resolved`}`
      : `${critical ? '🚨' : '⚠️'} ${n.cluster}: ${firing.length === 1 ? firing[0]!.summary : firing.some((a) => a.external) ? `${firing.length} alerts firing` : `${firing.length} checks failing`}`;
  const reply: Omit<Reply, 'outcome' | 'traceId' | 'time' | 'visibility'> = {
    title,
    text: alertLines(alerts, deps.now),
    severity,
    ...externalExtras(firing),
  };
  if (firing.length > 0) {
    const save = async (label: string, command: string, style?: ReplyButton['style']): Promise<ReplyButton> => {
      const id = shortId(12);
      // Every render makes new buttons; an expiry lets compaction delete them (an old message's then answer "expired").
      const expiresAt = new Date(deps.now.getTime() + (deps.buttonTtlMs ?? 30 * 86_400_000)).toISOString();
      await deps.store.saveAction({ id, command, confirmed: false, createdBy: 'system', createdAt: deps.now.toISOString(), expiresAt });
      return { label, actionId: id, ...(style ? { style } : {}) };
    };
    // The same alert ids as in the text above: one id per alert, everywhere (the notification's own id stays internal).
    // A storm's buttons name the notification (every firing alert in it), not hundreds of ids.
    const ids = firing.length > 10 ? n.id : firing.map((a) => a.id).join(' ');
    const ack = `alert ack ${ids}`;
    // One received alert: silence it by name (and at its source), not its whole cluster.
    const only = firing.length === 1 && firing[0]!.external ? firing[0]! : undefined;
    const silence = only
      ? `alert silence ${only.id} --for 1h --reason "silenced from chat"`
      : `silence ${n.cluster} --for 1h --reason "silenced from alert ${firing[0]!.id}"`;
    const resolve = `alert resolve ${ids}`;
    reply.buttons = [await save('Acknowledge', ack, 'primary'), await save('Silence 1h', silence), await save('Resolve', resolve, 'danger')];
    reply.hint = `${ack}  |  ${silence}  |  ${resolve}`;
  }
  return systemReply(reply, deps.now);
}

export function renderIncidentHeader(inc: Incident, now: Date): Reply {
  const icon = inc.status === 'resolved' ? '✅' : inc.status === 'mitigated' ? '🩹' : '🔥';
  return systemReply(
    {
      title: `${icon} INC-${inc.id} [SEV${inc.sev}] ${inc.title} · ${inc.status.toUpperCase()}`,
      severity: inc.status === 'resolved' ? 'success' : inc.sev <= 2 ? 'critical' : 'warning',
      fields: [
        { name: 'Cluster', value: inc.cluster ?? '-', inline: true },
        { name: 'Commander', value: inc.commander ?? 'unassigned', inline: true },
        { name: 'Comms', value: inc.comms ?? 'unassigned', inline: true },
        { name: 'Declared', value: `${stamp(inc.declaredAt)} by ${inc.declaredBy}` },
        ...(inc.resolvedAt ? [{ name: 'Resolved', value: `${stamp(inc.resolvedAt)} (${formatDuration(Date.parse(inc.resolvedAt) - Date.parse(inc.declaredAt))})` }] : []),
      ],
      hint: inc.status === 'resolved' ? `incident postmortem ${inc.id}` : `incident ack ${inc.id}  |  incident update ${inc.id} "<text>"  |  incident resolve ${inc.id} --summary "<text>"`,
    },
    now,
  );
}
