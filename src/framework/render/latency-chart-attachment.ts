import { probeLatency } from '../../engine/observe/read-metrics.js';
import type { ReplyAttachment } from '../../engine/message.js';
import type { HealthStore } from '../../store/health-store.js';
import { renderLineChart } from './render-line-chart.js';

const HOUR = 3_600_000;

/**
 * A check's probe latency over the hour before `until`, as the PNG attachment an alert thread shows; undefined
 * when there is nothing to draw (no successful probe in that hour).
 */
export async function latencyChartAttachment(health: HealthStore, check: string, until: Date): Promise<ReplyAttachment | undefined> {
  const from = new Date(until.getTime() - HOUR);
  const series = await probeLatency(health, [check], from);
  if (!series.some((s) => s.points.length > 0)) return undefined;
  const png = renderLineChart(series, { title: `${check} latency, last hour`, unit: 'ms', from: from.getTime(), to: until.getTime() });
  return { filename: `${check}-latency.png`, contentType: 'image/png', content: png.toString('base64'), encoding: 'base64' };
}
