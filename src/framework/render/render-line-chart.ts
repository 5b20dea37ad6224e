import type { Series } from '../../engine/observe/series.js';
import { svgToPng } from './render-summary-chart.js';

export type { Series };


const W = 800;
const H = 360;
const PAD = { left: 70, right: 20, top: 44, bottom: 48 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** 1234.5 → "1.23k"; short enough for an axis label on a phone. */
export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(v / 1e3).toPrecision(3)}k`;
  if (a === 0) return '0';
  return a >= 1 ? String(Number(v.toPrecision(3))) : String(Number(v.toPrecision(2)));
}

const hhmm = (t: number, long: boolean) => new Date(t).toISOString().slice(long ? 5 : 11, 16).replace('T', ' ');

/**
 * A line chart as SVG: title, y axis with unit and gridlines, time axis in UTC, one line per series (at most
 * six, with a legend). Big type and 800×360 so it reads on a phone.
 */
export function lineChartSvg(series: readonly Series[], opts: { title: string; unit: string; from: number; to: number }): string {
  const shown = series.slice(0, COLORS.length);
  const values = shown.flatMap((s) => s.points.map((p) => p.v));
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values, lo + 1e-9) === lo ? lo + 1 : Math.max(...values);
  const top = hi + (hi - lo) * 0.05;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (t: number) => PAD.left + ((t - opts.from) / Math.max(1, opts.to - opts.from)) * plotW;
  const y = (v: number) => PAD.top + plotH - ((v - lo) / (top - lo)) * plotH;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = lo + (top - lo) * f;
    return `<line x1="${PAD.left}" y1="${y(v).toFixed(1)}" x2="${W - PAD.right}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/><text x="${PAD.left - 8}" y="${(y(v) + 5).toFixed(1)}" text-anchor="end">${esc(formatValue(v))}</text>`;
  });
  const long = opts.to - opts.from > 36 * 3_600_000;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const t = opts.from + (opts.to - opts.from) * f;
    return `<text x="${x(t).toFixed(1)}" y="${H - PAD.bottom + 22}" text-anchor="middle">${hhmm(t, long)}</text>`;
  });
  const lines = shown.map((s, i) => {
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${COLORS[i]}" stroke-width="2.5"/>`;
  });
  const legend = shown.length > 1 ? shown.map((s, i) => `<text x="${PAD.left + 10 + i * 120}" y="${PAD.top + 16}" fill="${COLORS[i]}">${esc(s.name.slice(0, 16))}</text>`) : [];
  const empty = values.length === 0 ? `<text x="${W / 2}" y="${PAD.top + plotH / 2}" text-anchor="middle" font-size="18" fill="#888">No data in this period</text>` : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans" font-size="14" fill="#333">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="26" font-size="18">${esc(opts.title)}</text>`,
    `<text x="16" y="${PAD.top + plotH / 2}" transform="rotate(-90 16 ${PAD.top + plotH / 2})" text-anchor="middle">${esc(opts.unit || 'value')}</text>`,
    ...grid,
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#999"/>`,
    ...ticks,
    `<text x="${W - PAD.right}" y="${H - 6}" text-anchor="end" font-size="12" fill="#777">UTC</text>`,
    ...lines,
    ...legend,
    empty,
    '</svg>',
  ].join('');
}

export const renderLineChart = (series: readonly Series[], opts: Parameters<typeof lineChartSvg>[1]): Buffer => svgToPng(lineChartSvg(series, opts));

/** min/avg/max/last over every point, for the text next to the chart. */
export function seriesStats(series: readonly Series[]): { min: number; avg: number; max: number; last: number } | undefined {
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) return undefined;
  const vs = pts.map((p) => p.v);
  const last = series.map((s) => s.points.at(-1)).filter((p) => p !== undefined).sort((a, b) => a.t - b.t).at(-1)!.v;
  return { min: Math.min(...vs), avg: vs.reduce((a, b) => a + b, 0) / vs.length, max: Math.max(...vs), last };
}
