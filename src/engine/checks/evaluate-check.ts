import type { CheckConfig } from '../../config/health-config-schema.js';
import type { AlertKind, AlertSeverity, CheckState } from '../../store/health-store.js';
import { isAnomalous, updateBaseline } from './latency-baseline.js';
import type { ProbeOutcome } from './run-probe.js';

export type Transition =
  | { type: 'fire'; kind: AlertKind; severity: AlertSeverity; summary: string }
  | { type: 'resolve'; kind: AlertKind; summary: string }
  | { type: 'escalate'; kind: AlertKind; severity: AlertSeverity; summary: string };

export function initialCheckState(check: CheckConfig, cluster: string, at: string): CheckState {
  return { check: check.name, cluster, status: 'unknown', since: at, failures: 0, successes: 0, anomalies: 0, samples: 0 };
}

/**
 * Folds one probe result into the check's state: DOWN after `failureThreshold` consecutive failures, UP
 * again after `successThreshold` consecutive successes, DEGRADED after `degraded.after` anomalous latencies.
 * Pure: returns the next state and the alert transitions it implies.
 */
export function evaluateCheck(check: CheckConfig, prev: CheckState, r: ProbeOutcome, at: string): { state: CheckState; transitions: Transition[] } {
  const s: CheckState = {
    ...prev,
    lastAt: at,
    lastOk: r.ok,
    lastLatencyMs: r.latencyMs,
    failures: r.ok ? 0 : prev.failures + 1,
    successes: r.ok ? prev.successes + 1 : 0,
  };
  if (r.error) s.lastError = r.error;
  else delete s.lastError;
  const t: Transition[] = [];
  const to = (status: CheckState['status']) => {
    s.status = status;
    s.since = at;
  };

  if (r.ok && check.degraded.enabled) {
    const anomalous = isAnomalous(s, r.latencyMs, check.degraded.zScore, check.degraded.minDeltaMs);
    s.anomalies = anomalous ? prev.anomalies + 1 : 0;
    s.calm = anomalous ? 0 : (prev.calm ?? 0) + 1;
    Object.assign(s, updateBaseline(s, r.latencyMs, anomalous));
  } else if (!r.ok) {
    s.anomalies = 0;
    s.calm = 0;
  }

  if (!r.ok && s.failures >= check.failureThreshold && prev.status !== 'down') {
    if (prev.status === 'degraded') t.push({ type: 'resolve', kind: 'degraded', summary: 'superseded: the check is down' });
    to('down');
    s.downSince = at;
    delete s.remediatedAt;
    t.push({ type: 'fire', kind: 'down', severity: check.severity, summary: `${check.name} is DOWN: ${r.error ?? 'failed'}` });
  } else if (r.ok && prev.status === 'down' && s.successes >= check.successThreshold) {
    to('up');
    delete s.downSince;
    t.push({ type: 'resolve', kind: 'down', summary: `${check.name} is UP again` });
  } else if (r.ok && prev.status === 'unknown' && s.successes >= check.successThreshold) {
    to('up');
  } else if (r.ok && prev.status === 'up' && s.anomalies >= check.degraded.after) {
    to('degraded');
    t.push({
      type: 'fire',
      kind: 'degraded',
      severity: 'warning',
      summary: `${check.name} is DEGRADED: ${Math.round(r.latencyMs)} ms against a baseline of ${Math.round(prev.mean ?? 0)} ms`,
    });
  } else if (r.ok && prev.status === 'degraded' && (s.calm ?? 0) >= check.successThreshold) {
    to('up');
    t.push({ type: 'resolve', kind: 'degraded', summary: `${check.name} latency is back to normal: ${Math.round(r.latencyMs)} ms against a baseline of ${Math.round(prev.mean ?? 0)} ms` });
  }

  if (check.type === 'tls' && r.certDaysLeft !== undefined) {
    s.certDaysLeft = r.certDaysLeft;
    const level = r.certDaysLeft <= check.criticalDays ? 'critical' : r.certDaysLeft <= check.warnDays ? 'warning' : 'ok';
    const prevLevel = prev.certLevel ?? 'ok';
    const summary = `certificate of ${check.host} expires in ${Math.floor(r.certDaysLeft)} days`;
    if (level !== prevLevel) {
      if (level === 'ok') t.push({ type: 'resolve', kind: 'cert', summary: `certificate of ${check.host} renewed` });
      else if (prevLevel === 'ok') t.push({ type: 'fire', kind: 'cert', severity: level, summary });
      else t.push({ type: 'escalate', kind: 'cert', severity: level, summary });
    }
    s.certLevel = level;
  }
  return { state: s, transitions: t };
}

