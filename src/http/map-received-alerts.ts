import { z } from 'zod';
import type { ReceiversConfig } from '../config/receivers-config-schema.js';
import type { ReceivedAlert } from '../engine/alerts/alert-manager.js';
import type { ExternalAlertInfo } from '../store/health-store.js';

/** The webhook bodies Alertmanager (version 4) and Grafana alerting send, and their mapping onto infrabot alerts. */

const labels = z.record(z.string(), z.string());
// Alertmanager sends `{}` for no labels; some proxies send null.
const labelMap = labels.nullish().transform((l) => l ?? {});

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap,
  startsAt: z.string().optional(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(128),
});

const common = {
  receiver: z.string(),
  status: z.enum(['firing', 'resolved']),
  groupLabels: labelMap,
  commonLabels: labelMap,
  commonAnnotations: labelMap,
  externalURL: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).default(0),
};

/** Alertmanager's webhook_config body. Up to 10,000 alerts (Alertmanager's `max_alerts` is 0 = all by default). */
export const alertmanagerWebhookSchema = z.object({
  version: z.literal('4', { error: 'only Alertmanager webhook payload version "4" is understood' }),
  ...common,
  alerts: z.array(alertSchema).max(10_000),
});

/** Grafana alerting's webhook contact point body: Alertmanager's shape plus Grafana's own fields. */
export const grafanaWebhookSchema = z.object({
  version: z.string().optional(),
  orgId: z.number().int().optional(),
  title: z.string().optional(),
  state: z.string().optional(),
  message: z.string().optional(),
  ...common,
  alerts: z
    .array(
      alertSchema.extend({
        values: z.record(z.string(), z.union([z.number(), z.string(), z.null()])).nullish(),
        dashboardURL: z.string().optional(),
        panelURL: z.string().optional(),
        silenceURL: z.string().optional(),
        imageURL: z.string().optional(),
      }),
    )
    .max(10_000),
});

export type AlertmanagerWebhook = z.infer<typeof alertmanagerWebhookSchema>;
export type GrafanaWebhook = z.infer<typeof grafanaWebhookSchema>;
type WebhookAlert = GrafanaWebhook['alerts'][number];

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** A sender's time as ISO, or undefined when absent or unusable (Alertmanager sends 0001-01-01T00:00:00Z for "no end"). */
function senderTime(t: string | undefined): string | undefined {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) && ms >= Date.UTC(2000, 0, 1) ? new Date(ms).toISOString() : undefined;
}

/** Only web links become buttons: a `javascript:` or `file:` URL from a label must not reach a chat client. */
const webUrl = (u: string | undefined) => (u && /^https?:\/\/[^\s]+$/i.test(u) && u.length <= 2000 ? u : undefined);

function links(a: WebhookAlert): ExternalAlertInfo['links'] {
  const candidates: [string, string | undefined][] = [
    ['Runbook', a.annotations.runbook_url],
    ['Dashboard', a.dashboardURL],
    ['Panel', a.panelURL],
    ['Source', a.generatorURL],
    ['Silence in Grafana', a.silenceURL],
  ];
  return candidates.flatMap(([label, url]) => (webUrl(url) ? [{ label, url: webUrl(url)! }] : []));
}

/** One webhook → infrabot's received alerts: cluster and severity from the configured labels, links, incidents. */
export function mapReceivedAlerts(source: ExternalAlertInfo['source'], body: AlertmanagerWebhook | GrafanaWebhook, config: ReceiversConfig): ReceivedAlert[] {
  const critical = new Set(config.critical.map((v) => v.toLowerCase()));
  return body.alerts.map((raw): ReceivedAlert => {
    const a = raw as WebhookAlert;
    // Alertmanager puts shared labels on each alert too; common ones fill in for senders that do not.
    const all = { ...body.commonLabels, ...a.labels };
    const annotations = { ...body.commonAnnotations, ...a.annotations };
    const name = clip(all.alertname ?? 'alert', 120);
    const cluster = clip(all[config.labels.cluster] || config.defaultCluster, 63);
    const severity = critical.has((all[config.labels.severity] ?? '').toLowerCase()) ? 'critical' : 'warning';
    const where = all.instance ?? all.job;
    const summary = clip(annotations.summary ?? annotations.title ?? `${name}${where ? ` on ${where}` : ''}`, 300);
    const incident = config.incidents.find((i) => Object.entries(i.match).every(([k, v]) => all[k] === v));
    const image = webUrl(a.imageURL);
    const startsAt = senderTime(a.startsAt);
    const endsAt = a.status === 'resolved' ? senderTime(a.endsAt) : undefined;
    const external: ExternalAlertInfo = {
      source,
      fingerprint: a.fingerprint,
      labels: all,
      links: links({ ...a, annotations }),
      ...(annotations.description ? { description: clip(annotations.description, 1000) } : {}),
      ...(image ? { imageUrl: image } : {}),
      ...(body.truncatedAlerts > 0 ? { truncated: body.truncatedAlerts } : {}),
      ...(incident ? { incidentSev: incident.sev } : {}),
      ...(startsAt ? { startsAt } : {}),
      ...(endsAt && (!startsAt || endsAt >= startsAt) ? { endsAt } : {}),
    };
    return { status: a.status, name, cluster, severity, summary, external };
  });
}
