import type { Logger } from 'pino';
import type { IncidentsConfig } from '../../config/health-config-schema.js';
import { notFound, UserError } from '../../user-error.js';
import type { Reply } from '../message.js';
import type { HealthBatch, HealthStore, Incident, IncidentStatus, TimelineEntry } from '../../store/health-store.js';
import type { Store } from '../../store/store.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { formatTime } from '../../util/format-time.js';
import { shortId } from '../../util/ids.js';
import { describeEvent } from '../control-events.js';
import type { Clock } from '../engine.js';
import { channelTargets } from '../alerts/route-alert.js';
import { systemReply } from '../alerts/render-notification.js';

/**
 * Incident lifecycle. Mutators add their writes to `batch` and never commit it: a command hands the batch
 * to its own unit of work (with the audit record), the alert manager to the check's. Incidents are versioned:
 * a write decided on a row that changed meanwhile conflicts (see HealthStore.unit).
 */
export interface IncidentService {
  /** Numbered from the incident sequence (never MAX + 1); the incident and its notification go to `batch`. */
  declare(input: { title: string; sev: number; cluster?: string; actor: string; sourceAlertId?: string }, batch: HealthBatch): Promise<Incident>;
  get(id: number): Promise<Incident>;
  list(query: { open?: boolean; since?: string; cluster?: string }): Promise<Incident[]>;
  ack(id: number, actor: string, batch: HealthBatch): Promise<Incident>;
  update(id: number, text: string, actor: string, batch: HealthBatch): Promise<Incident>;
  assign(id: number, role: 'commander' | 'comms', user: string, actor: string, batch: HealthBatch): Promise<Incident>;
  setSeverity(id: number, sev: number, actor: string, batch: HealthBatch): Promise<Incident>;
  mitigate(id: number, actor: string, batch: HealthBatch): Promise<Incident>;
  resolve(id: number, summary: string, actor: string, batch: HealthBatch): Promise<Incident>;
  reopen(id: number, actor: string, batch: HealthBatch): Promise<Incident>;
  /** Stored entries merged with alert events and control changes of its cluster while it was open. */
  timeline(id: number): Promise<TimelineEntry[]>;
  /** The newest open incident of `cluster`, if any (the alert manager mirrors alerts into its thread). */
  openFor(cluster: string): Promise<Incident | undefined>;
  /** Status-update reminders to the commander; returns how many were queued. */
  tick(): Promise<number>;
}

export interface IncidentServiceDeps {
  health: HealthStore;
  store: Store;
  config: IncidentsConfig;
  clock: Clock;
  log: Logger;
  /** Called after a commit that queued notifications. */
  onEnqueued: () => void;
  /** Whether notifications to a platform are queued at all (a console drops those no adapter here serves). */
  routable?: (platform: string) => boolean;
}

const STATUS_ICON: Record<IncidentStatus, string> = { open: '🔥', acknowledged: '👀', mitigated: '🩹', resolved: '✅' };

export function createIncidentService(deps: IncidentServiceDeps): IncidentService {
  const { health, config, clock } = deps;
  const targets = () => channelTargets(config.channels).filter((t) => deps.routable?.(t.platform) ?? true);
  const cadence = (sev: number) => parseDuration(config.updateEvery[String(sev) as '1' | '2' | '3' | '4']) ?? 3_600_000;

  async function get(id: number): Promise<Incident> {
    const inc = await health.incident(id);
    if (!inc) throw notFound(`No incident INC-${id}.`, 'List them with `incident list`.');
    return inc;
  }

  /** Adds the incident, a timeline row, a header refresh and a thread message to one batch. */
  function change(inc: Incident, actor: string, type: string, text: string, thread: string | undefined, b: HealthBatch): Incident {
    const now = clock.now();
    const at = now.toISOString();
    const next = { ...inc, lastUpdateAt: at, nextReminderAt: new Date(now.getTime() + cadence(inc.sev)).toISOString() };
    (b.incidents ??= []).push(next);
    (b.timeline ??= []).push({ incidentId: inc.id, at, actor, type, text });
    if (next.notificationId) {
      for (const t of targets()) {
        (b.outbox ??= []).push({ ...t, notificationId: next.notificationId, op: 'sync' });
        if (thread) b.outbox.push({ ...t, notificationId: next.notificationId, op: 'reply', body: threadMessage(thread, `${actor}`, now) });
      }
    }
    return next;
  }

  const threadMessage = (text: string, actor: string, now: Date): Reply =>
    systemReply({ title: text, text: `by ${actor}`, severity: 'info' }, now);

  const requireOpen = (inc: Incident) => {
    if (inc.status === 'resolved') throw new UserError('infra_invalid_state', `INC-${inc.id} is resolved.`, `Reopen it with \`incident reopen ${inc.id}\`.`);
  };

  /** The status-update reminder of an incident, and its next reminder time. */
  const reminderOf = (inc: Incident, now: Date): HealthBatch => ({
    incidents: [{ ...inc, nextReminderAt: new Date(now.getTime() + cadence(inc.sev)).toISOString() }],
    outbox: targets().map((t) => ({
      ...t, notificationId: inc.notificationId!, op: 'reply' as const,
      body: systemReply({
        title: `⏰ Status update due for INC-${inc.id}`,
        text: `${inc.commander ? `Commander ${inc.commander}` : 'No commander assigned'}: last update ${formatDuration(now.getTime() - Date.parse(inc.lastUpdateAt))} ago. Post one with \`incident update ${inc.id} "…"\`.`,
        severity: 'warning',
      }, now),
    })),
  });

  const service: IncidentService = {
    async declare({ title, sev, cluster, actor, sourceAlertId }, b) {
      const now = clock.now();
      const at = now.toISOString();
      const id = await health.nextIncidentId();
      const notificationId = `inc-${id}-${shortId(4)}`;
      const inc: Incident = {
        id, title, sev, status: 'open', declaredAt: at, declaredBy: actor, lastUpdateAt: at,
        nextReminderAt: new Date(now.getTime() + cadence(sev)).toISOString(), notificationId,
        ...(cluster ? { cluster } : {}), ...(sourceAlertId ? { sourceAlertId } : {}),
      };
      (b.declared ??= []).push(inc);
      (b.notifications ??= []).push({ id: notificationId, kind: 'incident', createdAt: at, targets: targets(), incidentId: id, ...(cluster ? { cluster } : {}) });
      (b.timeline ??= []).push({ incidentId: id, at, actor, type: 'declared', text: `declared SEV${sev}: ${title}${sourceAlertId ? ` (from alert ${sourceAlertId})` : ''}` });
      for (const t of targets()) {
        (b.outbox ??= []).push({ ...t, notificationId, op: 'sync' });
        b.outbox.push({ ...t, notificationId, op: 'reply', body: threadMessage(`Incident thread for INC-${id}: updates go here.`, actor, now) });
      }
      return inc;
    },
    get,
    list: (query) => health.incidents(query),
    async ack(id, actor, b) {
      const inc = await get(id);
      requireOpen(inc);
      if (inc.ackedAt) throw new UserError('infra_invalid_state', `INC-${id} was already acknowledged by ${inc.ackedBy}.`);
      const at = clock.now().toISOString();
      const status = inc.status === 'open' ? 'acknowledged' : inc.status;
      return change({ ...inc, status, ackedAt: at, ackedBy: actor, commander: inc.commander ?? actor }, actor, 'acknowledged', `acknowledged by ${actor}${inc.commander ? '' : ' (now commander)'}`, `${STATUS_ICON.acknowledged} Acknowledged by ${actor}`, b);
    },
    async update(id, text, actor, b) {
      const inc = await get(id);
      requireOpen(inc);
      return change(inc, actor, 'update', text, `📝 ${text}`, b);
    },
    async assign(id, role, user, actor, b) {
      const inc = await get(id);
      requireOpen(inc);
      return change({ ...inc, [role]: user }, actor, 'assigned', `${role} is ${user}`, `👤 ${user} is now ${role}`, b);
    },
    async setSeverity(id, sev, actor, b) {
      const inc = await get(id);
      return change({ ...inc, sev }, actor, 'severity', `severity SEV${inc.sev} → SEV${sev}`, `Severity changed to SEV${sev}`, b);
    },
    async mitigate(id, actor, b) {
      const inc = await get(id);
      requireOpen(inc);
      if (inc.status === 'mitigated') {
        throw new UserError('infra_invalid_state', `INC-${id} is already mitigated (since ${formatTime(inc.mitigatedAt)}); nothing was recorded.`, `Post news with \`incident update ${id} "…"\`, or resolve it with \`incident resolve ${id} --summary "…"\`.`);
      }
      const at = clock.now().toISOString();
      return change({ ...inc, status: 'mitigated', mitigatedAt: at, ackedAt: inc.ackedAt ?? at, ackedBy: inc.ackedBy ?? actor }, actor, 'status', 'status → mitigated', `${STATUS_ICON.mitigated} Mitigated`, b);
    },
    async resolve(id, summary, actor, b) {
      const inc = await get(id);
      requireOpen(inc);
      const at = clock.now().toISOString();
      const took = formatDuration(Date.parse(at) - Date.parse(inc.declaredAt));
      return change(
        { ...inc, status: 'resolved', resolvedAt: at, summary, ackedAt: inc.ackedAt ?? at, ackedBy: inc.ackedBy ?? actor },
        actor, 'status', `status → resolved: ${summary}`, `${STATUS_ICON.resolved} Resolved after ${took}: ${summary}`, b,
      );
    },
    async reopen(id, actor, b) {
      const inc = await get(id);
      if (inc.status !== 'resolved') throw new UserError('infra_invalid_state', `INC-${id} is not resolved (it is ${inc.status}).`);
      const { resolvedAt: _r, ...rest } = inc;
      return change({ ...rest, status: 'open' }, actor, 'status', 'status → open (reopened)', `${STATUS_ICON.open} Reopened by ${actor}`, b);
    },
    async timeline(id) {
      const inc = await get(id);
      const own = await health.timeline(id);
      if (!inc.cluster) return own;
      const until = inc.resolvedAt;
      const alertRows = (await health.alertEvents({ cluster: inc.cluster, after: inc.declaredAt, ...(until ? { until } : {}) }))
        .filter((e) => e.type !== 'notified' && e.type !== 'reminded')
        .map((e): TimelineEntry => ({ incidentId: id, at: e.at, actor: e.actor, type: `alert.${e.type}`, text: `alert ${e.alertId} ${e.type}: ${e.detail}` }));
      const controls = (await deps.store.events({ after: new Date(Date.parse(inc.declaredAt) - 1).toISOString(), ...(until ? { until } : {}) }))
        .filter((e) => e.scope === inc.cluster || e.event.type === 'killswitch.set')
        .map((e): TimelineEntry => ({ incidentId: id, at: e.at, actor: e.actor, type: `control.${e.event.type}`, text: describeEvent(e.event) }));
      return [...own, ...alertRows, ...controls].sort((a, b) => a.at.localeCompare(b.at));
    },
    async openFor(cluster) {
      return (await health.incidents({ open: true, cluster })).at(-1);
    },
    async tick() {
      let n = 0;
      for (const { id } of await health.incidents({ open: true })) {
        // Decided on the row read inside the unit of work: a resolve (or another replica's reminder) landing
        // first makes the write conflict, and the decision is made again instead of undoing it.
        const reminded = await health.unit(async () => {
          const now = clock.now();
          const inc = await health.incident(id);
          if (!inc || inc.status === 'resolved' || !inc.notificationId || !inc.nextReminderAt || Date.parse(inc.nextReminderAt) > now.getTime()) return false;
          await health.commit(reminderOf(inc, now), now.toISOString());
          return true;
        });
        if (reminded) n++;
      }
      if (n) deps.onEnqueued();
      return n;
    },
  };
  return service;
}
