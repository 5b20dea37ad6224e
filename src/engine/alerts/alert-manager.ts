import type { Logger } from 'pino';
import type { AlertsConfig, CheckConfig, RecurringWindow } from '../../config/health-config-schema.js';
import { notFound, UserError } from '../../user-error.js';
import type { Alert, AlertEvent, ExternalAlertInfo, HealthBatch, HealthStore, Notification, Target } from '../../store/health-store.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { formatTime } from '../../util/format-time.js';
import { shortId } from '../../util/ids.js';
import type { Clock } from '../engine.js';
import type { ReplyAttachment } from '../message.js';
import type { Transition } from '../checks/evaluate-check.js';
import type { IncidentService } from '../incidents/incident-service.js';
import { openWindow } from './maintenance-windows.js';
import { alertStartedAt, describeResolvedAlert, systemReply } from './render-notification.js';
import { routeAlert, targetsKey } from './route-alert.js';

export interface AlertManager {
  /** Turns a check's transitions into alert rows, notifications and outbox jobs, added to `batch`. */
  apply(batch: HealthBatch, cluster: string, check: CheckConfig, transitions: readonly Transition[]): Promise<void>;
  /** Why notifications for this check are held back now (a silence or maintenance window), if they are. */
  heldBy(cluster: string, check: string): Promise<string | undefined>;
  /** Reminders, and notifications released when a silence ends; returns jobs queued. */
  tick(): Promise<number>;
  /**
   * `ids` are alert ids, or notification ids (every firing alert in it; old buttons carry these). Adds to
   * `batch` (the command's, committed with its audit record) and never commits itself. Each message is
   * updated once however many of its alerts are named.
   */
  ack(ids: readonly string[], actor: string, batch: HealthBatch, opts?: { resolvedToo?: boolean }): Promise<Alert[]>;
  /** With `resolvedToo` (deciding again after a conflict), alerts resolved meanwhile are left as they are. */
  resolve(ids: readonly string[], actor: string, batch: HealthBatch, opts?: { resolvedToo?: boolean }): Promise<Alert[]>;
  /** The cluster an alert or notification id belongs to (for per-cluster authorization). */
  clusterOf(id: string): Promise<string | undefined>;
  /**
   * Alerts received from Alertmanager or Grafana, added to `batch`: deduplicated by source and fingerprint
   * (a retried webhook changes nothing), grouped, held by silences and maintenance windows, resolved in
   * place. A storm gets one message per cluster and one thread reply per notification, not one per alert.
   */
  receive(batch: HealthBatch, alerts: readonly ReceivedAlert[]): Promise<ReceiveOutcome>;
}

/** One alert of a webhook, already mapped onto infrabot's world (src/http/map-received-alerts.ts). */
export interface ReceivedAlert {
  status: 'firing' | 'resolved';
  /** The alert's name (`alertname`): shown where a probe alert shows its check, and silenceable by it. */
  name: string;
  cluster: string;
  severity: Alert['severity'];
  summary: string;
  external: ExternalAlertInfo;
}

export interface ReceiveOutcome {
  fired: number;
  resolved: number;
  /** Firing alerts already firing, and resolves of alerts not firing (retries, or never seen). */
  unchanged: number;
}

export interface AlertManagerDeps {
  health: HealthStore;
  config: AlertsConfig;
  /** Recurring maintenance windows per cluster, from the config. */
  windows: Record<string, readonly RecurringWindow[]>;
  clock: Clock;
  log: Logger;
  incidents: IncidentService;
  /** Whether notifications to a platform are queued at all (a console drops those no adapter here serves). */
  routable?: (platform: string) => boolean;
  /** The configured check of that name (for the incident a DOWN check asks for). */
  checkConfig: (name: string) => CheckConfig | undefined;
  onEnqueued: () => void;
  /** A batch the manager committed itself (reminders, released alerts), for the lifecycle events. */
  onCommitted?: (batch: HealthBatch) => void;
  /**
   * Why a failing check of this cluster is expected right now (it was disabled on purpose, or the kill-switch
   * is on): "api disabled by local:alice at 2026-11-21 03:00Z". Such alerts are shown but never page.
   */
  expectedDown?: (cluster: string) => Promise<string | undefined>;
  /** A chart of a check's latency over the hour before `until` (PNG), for the thread of a DOWN or DEGRADED alert. */
  latencyChart?: (check: string, until: Date) => Promise<ReplyAttachment | undefined>;
}

/** The first few of many names, and how many more. */
function listSome(names: readonly string[], max = 10): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

export function createAlertManager(deps: AlertManagerDeps): AlertManager {
  const { health, config, clock } = deps;
  const groupWindowMs = parseDuration(config.groupWindow) ?? 30_000;
  const reminderMs = parseDuration(config.reminder.every) ?? 1_800_000;
  const route = (cluster: string, severity: Alert['severity']) => routeAlert(config, cluster, severity).filter((t) => deps.routable?.(t.platform) ?? true);

  /** One sync per message per batch is enough: it renders the notification's state when it is delivered. */
  const queueSync = (b: HealthBatch, t: Target, notificationId: string) => {
    const queued = (b.outbox ??= []).some((j) => j.op === 'sync' && j.notificationId === notificationId && j.platform === t.platform && j.channel === t.channel);
    if (!queued) b.outbox.push({ ...t, notificationId, op: 'sync' });
  };

  const event = (b: HealthBatch, a: Alert, type: AlertEvent['type'], actor: string, detail: string, at: string) =>
    (b.alertEvents ??= []).push({ alertId: a.id, at, cluster: a.cluster, type, actor, detail });

  async function heldBy(cluster: string, check: string): Promise<string | undefined> {
    const now = clock.now();
    const active = await health.silences({ activeAt: now.toISOString() });
    const hit = active.find((s) => s.target === cluster || s.target === check);
    if (hit) return `${hit.kind} ${hit.id} until ${formatTime(hit.endsAt)} (${hit.reason})`;
    for (const w of deps.windows[cluster] ?? []) {
      let open;
      try {
        open = openWindow(w, now);
      } catch (err) {
        // Fail safe: a window that cannot be evaluated counts as closed (alerts are notified), and the config
        // validation should have refused it in the first place.
        deps.log.error({ err, cluster, window: w.name }, 'maintenance window cannot be evaluated; treating it as closed');
        continue;
      }
      if (open) return `maintenance window "${w.name}" until ${formatTime(open.until.toISOString())}`;
    }
    return undefined;
  }

  /** Attaches the alert to a notification: the cluster's recent one (grouping) or a new one. */
  async function notify(b: HealthBatch, a: Alert, at: Date): Promise<void> {
    const targets = route(a.cluster, a.severity);
    const since = new Date(at.getTime() - groupWindowMs).toISOString();
    const pending = (b.notifications ?? []).find((n) => n.kind === 'alert' && n.cluster === a.cluster && targetsKey(n.targets) === targetsKey(targets));
    const recent = pending ?? (await health.recentAlertNotification(a.cluster, since));
    let n: Notification;
    if (recent && targetsKey(recent.targets) === targetsKey(targets) && (pending || (await health.alerts({ notificationId: recent.id, status: 'firing' })).length > 0)) {
      n = recent;
    } else {
      n = { id: `n${shortId(6)}`, kind: 'alert', cluster: a.cluster, createdAt: at.toISOString(), targets };
      (b.notifications ??= []).push(n);
    }
    a.notificationId = n.id;
    delete a.heldBy;
    if (config.reminder.max > 0) a.nextReminderAt = new Date(at.getTime() + reminderMs).toISOString();
    for (const t of n.targets) queueSync(b, t, n.id);
    event(b, a, 'notified', 'system', n.targets.map((t) => `${t.platform}:${t.channel}`).join(', '), at.toISOString());
  }

  /** A DOWN or DEGRADED alert's thread gets its check's latency over the last hour: people would rather look than read. */
  async function attachLatencyChart(b: HealthBatch, a: Alert, at: Date): Promise<void> {
    if (!deps.latencyChart || !a.notificationId || (a.kind !== 'down' && a.kind !== 'degraded')) return;
    const chart = await deps.latencyChart(a.check, at).catch((err: unknown) => {
      deps.log.warn({ err, check: a.check }, 'latency chart for the alert thread not drawn');
      return undefined;
    });
    const n = (b.notifications ?? []).find((x) => x.id === a.notificationId) ?? (await health.notification(a.notificationId));
    if (!chart || !n) return;
    for (const t of n.targets) {
      (b.outbox ??= []).push({
        ...t, notificationId: n.id, op: 'reply',
        body: systemReply({ title: `📉 ${a.check} latency, last hour`, severity: 'info', attachments: [chart] }, at),
      });
    }
  }

  function resolveInto(b: HealthBatch, a: Alert, actor: string, summary: string, at: Date, n: Notification | undefined, reply = true): void {
    const r: Alert = { ...a, status: 'resolved', resolvedAt: at.toISOString(), resolvedBy: actor };
    delete r.nextReminderAt;
    (b.alerts ??= []).push(r);
    event(b, r, 'resolved', actor, summary, at.toISOString());
    if (!n) return; // held back by a silence the whole time: recorded, never shown
    const what = describeResolvedAlert(r);
    for (const t of n.targets) {
      queueSync(b, t, n.id);
      if (reply) b.outbox!.push({
        ...t, notificationId: n.id, op: 'reply',
        body: systemReply({ title: `✅ Resolved: ${summary}`, text: `${what} (alert ${a.id}).`, severity: 'success' }, at),
      });
    }
  }

  /** A DOWN alert of a check that asks for an incident opens one, unless its cluster already has one open. */
  async function openIncidentFor(b: HealthBatch, a: Alert, check: CheckConfig | undefined): Promise<void> {
    const sev = a.kind === 'external' ? a.external?.incidentSev : a.kind === 'down' ? check?.incident?.sev : undefined;
    // A cluster switched off on purpose is no incident.
    if (sev === undefined || a.expected || a.incidentId !== undefined || (await deps.incidents.openFor(a.cluster))) return;
    // An incident declared earlier in this batch (a storm) is the cluster's incident too.
    if ((b.declared ?? []).some((i) => i.cluster === a.cluster)) return;
    const inc = await deps.incidents.declare({ title: a.summary, sev, cluster: a.cluster, actor: 'system', sourceAlertId: a.id }, b);
    a.incidentId = inc.id;
  }

  /** Alerts of a cluster with an open incident are also posted in the incident's thread. */
  async function mirrorToIncident(b: HealthBatch, cluster: string, title: string, at: Date): Promise<void> {
    const inc = await deps.incidents.openFor(cluster);
    if (!inc?.notificationId) return;
    const n = await health.notification(inc.notificationId);
    for (const t of n?.targets ?? []) (b.outbox ??= []).push({ ...t, notificationId: inc.notificationId, op: 'reply', body: systemReply({ title, severity: 'info' }, at) });
  }

  async function targetAlerts(ids: readonly string[]): Promise<Alert[]> {
    const byId = new Map<string, Alert>();
    for (const id of ids) for (const a of await firingOf(id)) byId.set(a.id, a);
    return [...byId.values()];
  }

  /** Every alert the ids name (alert or notification ids), whatever their status. */
  async function namedAlerts(ids: readonly string[]): Promise<Alert[]> {
    const byId = new Map<string, Alert>();
    for (const id of ids) {
      const one = await health.alert(id);
      for (const a of one ? [one] : await health.alerts({ notificationId: id })) byId.set(a.id, a);
    }
    return [...byId.values()];
  }

  async function firingOf(id: string): Promise<Alert[]> {
    const one = await health.alert(id);
    const list = one ? [one] : await health.alerts({ notificationId: id });
    if (list.length === 0) throw notFound(`No alert or notification "${id}".`, 'List firing alerts with `alert list`.');
    const firing = list.filter((a) => a.status === 'firing');
    if (firing.length === 0) throw new UserError('infra_invalid_state', `Alert ${id} is already resolved.`);
    return firing;
  }

  /** Reminders due, and notifications of alerts a silence no longer holds back (inside a unit of work). */
  async function remindAndRelease(): Promise<{ queued: number; batch: HealthBatch }> {
      const now = clock.now();
      const at = now.toISOString();
      const b: HealthBatch = {};
      for (const a of await health.alerts({ status: 'firing' })) {
        const held = await heldBy(a.cluster, a.check);
        if (held) continue;
        if (a.heldBy) {
          // The silence is over and the check still fails: notify, and open the incident it held back.
          const up = { ...a };
          await notify(b, up, now);
          if (up.expected) delete up.nextReminderAt;
          await openIncidentFor(b, up, deps.checkConfig(a.check));
          (b.alerts ??= []).push(up);
          continue;
        }
        if (!a.notificationId || a.ackedAt || !a.nextReminderAt || Date.parse(a.nextReminderAt) > now.getTime()) continue;
        if (a.reminders >= config.reminder.max) continue;
        const n = await health.notification(a.notificationId);
        const up: Alert = { ...a, reminders: a.reminders + 1 };
        // From now, not from the missed time: after downtime one reminder goes out, not a burst of them.
        if (up.reminders < config.reminder.max) up.nextReminderAt = new Date(now.getTime() + reminderMs).toISOString();
        else delete up.nextReminderAt;
        (b.alerts ??= []).push(up);
        event(b, up, 'reminded', 'system', `reminder ${up.reminders} of ${config.reminder.max}`, at);
        for (const t of n?.targets ?? []) {
          (b.outbox ??= []).push({
            ...t, notificationId: n!.id, op: 'reply',
            body: systemReply({
              title: `⏰ Still firing: ${a.summary}`,
              text: `For ${formatDuration(now.getTime() - Date.parse(alertStartedAt(a)))}, unacknowledged (reminder ${up.reminders} of ${config.reminder.max}).`,
              severity: a.severity,
              hint: `alert ack ${a.id}`,
            }, now),
          });
        }
      }
      const queued = b.outbox?.length ?? 0;
      if (b.alerts?.length) await health.commit(b, at);
      return { queued: b.alerts?.length ? queued : 0, batch: b };
  }

  const manager: AlertManager = {
    heldBy,
    async apply(b, cluster, check, transitions) {
      const now = clock.now();
      const at = now.toISOString();
      for (const t of transitions) {
        const key = `${t.kind}:${check.name}`;
        const existing = (b.alerts ?? []).find((a) => a.dedupKey === key && a.status === 'firing') ?? (await health.firingAlert(key));
        if (t.type === 'fire') {
          if (existing) continue; // deduplicated by check and kind
          const expected = t.kind === 'down' ? await deps.expectedDown?.(cluster) : undefined;
          const a: Alert = {
            id: shortId(6), dedupKey: key, kind: t.kind, cluster, check: check.name, severity: expected ? 'warning' : t.severity, status: 'firing',
            summary: expected ? `${t.summary} (expected: ${expected})` : t.summary, firedAt: at, reminders: 0,
            ...(expected ? { expected } : {}),
          };
          event(b, a, 'fired', 'system', t.summary, at);
          const held = await heldBy(cluster, check.name);
          if (held) {
            a.heldBy = held;
            event(b, a, 'held', 'system', `notification held back: ${held}`, at);
          } else {
            await notify(b, a, now);
            if (expected) delete a.nextReminderAt; // nobody needs reminding of what they did on purpose
            else await attachLatencyChart(b, a, now);
          }
          if (!held) await openIncidentFor(b, a, check);
          (b.alerts ??= []).push(a);
          if (!held && !a.incidentId) await mirrorToIncident(b, cluster, `🚨 Alert: ${t.summary}`, now);
        } else if (existing) {
          const n = existing.notificationId ? await health.notification(existing.notificationId) : undefined;
          if (t.type === 'resolve') {
            resolveInto(b, existing, 'system', t.summary, now, n);
            if (n) await mirrorToIncident(b, cluster, `✅ Alert resolved: ${t.summary}`, now);
          } else {
            if (existing.expected) continue; // stays a non-paging notice while the cluster is off on purpose
            const up: Alert = { ...existing, severity: t.severity, summary: t.summary };
            event(b, up, 'escalated', 'system', t.summary, at);
            // The new severity may route to more targets (a critical-only channel): the notification is widened
            // to them, so they get the message (posted) while its existing messages are updated in place.
            let shown = n;
            if (n) {
              const extra = route(cluster, t.severity).filter((r) => !n.targets.some((x) => x.platform === r.platform && x.channel === r.channel));
              if (extra.length) {
                shown = { ...n, targets: [...n.targets, ...extra] };
                const queued = (b.notifications ??= []).findIndex((x) => x.id === n.id);
                if (queued >= 0) b.notifications[queued] = shown;
                else b.notifications.push(shown);
              }
            }
            for (const tg of shown?.targets ?? []) (b.outbox ??= []).push({ ...tg, notificationId: shown!.id, op: 'sync' });
            (b.alerts ??= []).push(up);
          }
        }
      }
    },

    async tick() {
      // One unit of work: a conflicting write (an ack or resolve landing meanwhile, another replica's tick)
      // makes it decide again on the fresh rows instead of writing back what it read.
      const { queued, batch } = await health.unit(() => remindAndRelease());
      deps.onCommitted?.(batch);
      if (queued) deps.onEnqueued();
      return queued;
    },

    async receive(b, received) {
      const now = clock.now();
      const at = now.toISOString();
      const outcome: ReceiveOutcome = { fired: 0, resolved: 0, unchanged: 0 };
      const resolvedIn = new Map<string, { n: Notification; names: string[] }>();
      const mirrored = new Map<string, string[]>();
      for (const r of received) {
        const key = `${r.external.source}:${r.external.fingerprint}`;
        const existing = [...(b.alerts ?? [])].reverse().find((a) => a.dedupKey === key) ?? (await health.firingAlert(key));
        const firing = existing?.status === 'firing' ? existing : undefined;
        if (r.status === 'firing') {
          if (firing) {
            outcome.unchanged++;
            continue;
          }
          const a: Alert = {
            id: shortId(6), dedupKey: key, kind: 'external', cluster: r.cluster, check: r.name, severity: r.severity, status: 'firing',
            // A sender clock ahead of ours must not make the alert look younger than nothing.
            summary: r.summary, firedAt: at, reminders: 0, external: { ...r.external, ...(r.external.startsAt && r.external.startsAt > at ? { startsAt: at } : {}) },
          };
          event(b, a, 'fired', r.external.source, r.summary, at);
          const held = await heldBy(r.cluster, r.name);
          if (held) {
            a.heldBy = held;
            event(b, a, 'held', 'system', `notification held back: ${held}`, at);
          } else {
            await notify(b, a, now);
            await openIncidentFor(b, a, undefined);
            if (!a.incidentId) mirrored.set(r.cluster, [...(mirrored.get(r.cluster) ?? []), r.summary]);
          }
          (b.alerts ??= []).push(a);
          outcome.fired++;
        } else {
          if (!firing) {
            outcome.unchanged++;
            continue;
          }
          const n = firing.notificationId ? ((b.notifications ?? []).find((x) => x.id === firing.notificationId) ?? (await health.notification(firing.notificationId))) : undefined;
          // How long it fired is the sender's to say: from its startsAt to its endsAt (not when we heard of either).
          const startsAt = firing.external?.startsAt ?? r.external.startsAt;
          const endsAt = r.external.endsAt && r.external.endsAt < at ? r.external.endsAt : at;
          const external = { ...(firing.external ?? r.external), ...(startsAt ? { startsAt } : {}), endsAt };
          resolveInto(b, { ...firing, external }, r.external.source, `${r.name} resolved`, now, n, false);
          if (n) resolvedIn.set(n.id, { n, names: [...(resolvedIn.get(n.id)?.names ?? []), firing.summary] });
          outcome.resolved++;
        }
      }
      // One thread reply per message and one incident-thread line per cluster, however big the webhook.
      for (const { n, names } of resolvedIn.values()) {
        const title = names.length === 1 ? `✅ Resolved: ${names[0]}` : `✅ Resolved: ${names.length} alerts`;
        const text = names.length === 1 ? undefined : listSome(names);
        for (const t of n.targets) b.outbox!.push({ ...t, notificationId: n.id, op: 'reply', body: systemReply({ title, ...(text ? { text } : {}), severity: 'success' }, now) });
      }
      for (const [cluster, names] of mirrored) {
        await mirrorToIncident(b, cluster, names.length === 1 ? `🚨 Alert: ${names[0]}` : `🚨 ${names.length} alerts: ${listSome(names)}`, now);
      }
      return outcome;
    },

    async clusterOf(id) {
      return (await health.alert(id))?.cluster ?? (await health.notification(id))?.cluster;
    },

    async ack(ids, actor, b, opts) {
      // Deciding again after a conflict: an alert resolved meanwhile keeps its resolve and gets the ack recorded.
      const firing = opts?.resolvedToo ? await namedAlerts(ids) : await targetAlerts(ids);
      const now = clock.now();
      const acked: Alert[] = [];
      const notifications = new Set<string>();
      for (const a of firing) {
        if (opts?.resolvedToo && a.ackedAt) continue; // acked meanwhile by someone else: theirs stands
        const up: Alert = { ...a, ackedAt: now.toISOString(), ackedBy: actor };
        delete up.nextReminderAt;
        (b.alerts ??= []).push(up);
        acked.push(up);
        event(b, up, 'acked', actor, `acknowledged by ${actor}`, now.toISOString());
        if (a.notificationId) notifications.add(a.notificationId);
      }
      for (const nid of notifications) {
        const n = await health.notification(nid);
        for (const t of n?.targets ?? []) {
          (b.outbox ??= []).push({ ...t, notificationId: nid, op: 'sync' });
          b.outbox.push({ ...t, notificationId: nid, op: 'reply', body: systemReply({ title: `👀 Acknowledged by ${actor}`, severity: 'info' }, now) });
        }
      }
      return acked;
    },

    async resolve(ids, actor, b, opts) {
      const firing = opts?.resolvedToo ? (await namedAlerts(ids)).filter((a) => a.status === 'firing') : await targetAlerts(ids);
      const now = clock.now();
      const before = b.alerts?.length ?? 0;
      for (const a of firing) {
        const n = a.notificationId ? await health.notification(a.notificationId) : undefined;
        resolveInto(b, a, actor, `${a.check} ${a.kind} resolved by hand`, now, n);
      }
      return (b.alerts ?? []).slice(before);
    },
  };
  return manager;
}
