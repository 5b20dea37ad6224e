/** Webhook bodies in the exact shapes Alertmanager 0.25 (version 4) and Grafana 11 alerting send. */

const ZERO = '0001-01-01T00:00:00Z';

export interface AmAlertInput {
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  fingerprint: string;
}

export function amAlert(a: AmAlertInput) {
  const status = a.status ?? 'firing';
  return {
    status,
    labels: a.labels ?? {},
    annotations: a.annotations ?? {},
    startsAt: '2026-11-21T02:59:30.000Z',
    endsAt: status === 'firing' ? ZERO : '2026-11-21T03:05:00.000Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1',
    fingerprint: a.fingerprint,
  };
}

export function amWebhook(alerts: ReturnType<typeof amAlert>[], more: { truncatedAlerts?: number; commonLabels?: Record<string, string> } = {}) {
  return {
    receiver: 'infrabot',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { alertname: alerts[0]?.labels.alertname ?? '' },
    commonLabels: more.commonLabels ?? {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{alertname="HighErrorRate"}',
    truncatedAlerts: more.truncatedAlerts ?? 0,
  };
}

export const highErrors = (fingerprint: string, status: 'firing' | 'resolved' = 'firing', labels: Record<string, string> = {}) =>
  amAlert({
    status,
    fingerprint,
    labels: { alertname: 'HighErrorRate', cluster: 'api', severity: 'critical', instance: `api-${fingerprint}:8080`, job: 'api', ...labels },
    annotations: { summary: `5xx above 5% on api-${fingerprint}`, description: 'Error ratio 7.2% over 5m', runbook_url: 'https://runbooks.example.com/high-error-rate' },
  });

export function grafanaWebhook(status: 'firing' | 'resolved' = 'firing') {
  return {
    receiver: 'infrabot',
    status,
    orgId: 1,
    alerts: [
      {
        status,
        labels: { alertname: 'DiskFull', cluster: 'web', grafana_folder: 'infra', severity: 'warning' },
        annotations: { summary: 'Disk 93% full on web-1' },
        startsAt: '2026-11-21T02:58:00Z',
        endsAt: status === 'firing' ? ZERO : '2026-11-21T03:10:00Z',
        generatorURL: 'https://grafana.example.com/alerting/grafana/abc123/view?orgId=1',
        fingerprint: 'c6eadffa33fcdf37',
        silenceURL: 'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DDiskFull',
        dashboardURL: 'https://grafana.example.com/d/node?orgId=1',
        panelURL: 'https://grafana.example.com/d/node?orgId=1&viewPanel=3',
        values: { B: 93.1, C: 1 },
        imageURL: 'https://grafana.example.com/public/img/attachments/abc.png',
      },
    ],
    groupLabels: { alertname: 'DiskFull' },
    commonLabels: { alertname: 'DiskFull', cluster: 'web' },
    commonAnnotations: {},
    externalURL: 'https://grafana.example.com/',
    version: '1',
    groupKey: '{}:{alertname="DiskFull"}',
    truncatedAlerts: 0,
    title: '[FIRING:1] DiskFull (web)',
    state: 'alerting',
    message: '**Firing**\n\nValue: B=93.1\nLabels:\n - alertname = DiskFull\n',
  };
}
