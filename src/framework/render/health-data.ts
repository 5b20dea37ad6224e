import { z } from 'zod';
import type { Alert, Incident, Silence } from '../../store/health-store.js';
import { isoTime } from './state-data.js';

/** Structured reply data of the health, alert, silence, maintenance and incident commands (see state-data.ts). */
export const alertData = z.object({
  id: z.string(),
  cluster: z.string(),
  check: z.string(),
  kind: z.enum(['down', 'degraded', 'cert', 'external']).describe('external: received from Alertmanager or Grafana'),
  severity: z.enum(['warning', 'critical']),
  status: z.enum(['firing', 'resolved']),
  summary: z.string().describe('What the check saw (probe-derived text)'),
  firedAt: isoTime,
  resolvedAt: isoTime.nullable(),
  resolvedBy: z.string().nullable(),
  ackedAt: isoTime.nullable(),
  ackedBy: z.string().nullable(),
  heldBy: z.string().nullable().describe('Silence or maintenance window holding its notification back'),
  incidentId: z.number().int().nullable(),
  expected: z.string().nullable().describe('Set when its cluster was switched off on purpose as it fired: shown, never paged'),
  source: z.enum(['alertmanager', 'grafana', 'budget']).nullable().describe('Where a received alert came from'),
});

export const toAlertData = (a: Alert): z.output<typeof alertData> => ({
  id: a.id,
  cluster: a.cluster,
  check: a.check,
  kind: a.kind,
  severity: a.severity,
  status: a.status,
  summary: a.summary,
  firedAt: a.firedAt,
  resolvedAt: a.resolvedAt ?? null,
  resolvedBy: a.resolvedBy ?? null,
  ackedAt: a.ackedAt ?? null,
  ackedBy: a.ackedBy ?? null,
  heldBy: a.heldBy ?? null,
  incidentId: a.incidentId ?? null,
  expected: a.expected ?? null,
  source: a.external?.source ?? null,
});

export const silenceData = z.object({
  id: z.string(),
  kind: z.enum(['silence', 'maintenance']),
  target: z.string().describe('Cluster or check'),
  reason: z.string(),
  createdBy: z.string(),
  startsAt: isoTime,
  endsAt: isoTime,
  endedAt: isoTime.nullable(),
});

export const toSilenceData = (s: Silence): z.output<typeof silenceData> => ({
  id: s.id, kind: s.kind, target: s.target, reason: s.reason, createdBy: s.createdBy, startsAt: s.startsAt, endsAt: s.endsAt, endedAt: s.endedAt ?? null,
});

export const incidentData = z.object({
  id: z.number().int().describe('Shown as INC-<id>'),
  title: z.string(),
  sev: z.number().int().min(1).max(4),
  cluster: z.string().nullable(),
  status: z.enum(['open', 'acknowledged', 'mitigated', 'resolved']),
  declaredAt: isoTime,
  declaredBy: z.string(),
  ackedAt: isoTime.nullable(),
  ackedBy: z.string().nullable(),
  mitigatedAt: isoTime.nullable(),
  resolvedAt: isoTime.nullable(),
  summary: z.string().nullable(),
  commander: z.string().nullable(),
  comms: z.string().nullable(),
  sourceAlertId: z.string().nullable(),
});

export const toIncidentData = (i: Incident): z.output<typeof incidentData> => ({
  id: i.id,
  title: i.title,
  sev: i.sev,
  cluster: i.cluster ?? null,
  status: i.status,
  declaredAt: i.declaredAt,
  declaredBy: i.declaredBy,
  ackedAt: i.ackedAt ?? null,
  ackedBy: i.ackedBy ?? null,
  mitigatedAt: i.mitigatedAt ?? null,
  resolvedAt: i.resolvedAt ?? null,
  summary: i.summary ?? null,
  commander: i.commander ?? null,
  comms: i.comms ?? null,
  sourceAlertId: i.sourceAlertId ?? null,
});
