import { Resvg } from '@resvg/resvg-js';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../util/package-root.js';

/** The font the summary chart ships with, so text renders the same everywhere. */
const FONT = join(PACKAGE_ROOT, 'assets', 'fonts', 'DejaVuSans.ttf');
const W = 600;
const H = 220;
const PAD = { left: 52, right: 12, top: 28, bottom: 40 };
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k` : n >= 10 ? n.toFixed(0) : n.toFixed(2));

/**
 * Daily spend as bars (solid: charged; pale: forecast to the end of the period), with the daily budget as a
 * dashed line when there is one.
 */
export function costChartSvg(c: { days: { day: string; amount: number; forecast?: boolean }[]; title: string; dailyBudget?: number }): string {
  const n = Math.max(1, c.days.length);
  const max = Math.max(1e-9, c.dailyBudget ?? 0, ...c.days.map((d) => d.amount));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / n;
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const bars = c.days.map((d, i) => {
    const x = PAD.left + i * slot + slot * 0.15;
    return `<rect x="${x.toFixed(1)}" y="${y(d.amount).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${((d.amount / max) * plotH).toFixed(1)}" fill="${d.forecast ? '#b9d3ee' : '#337ab7'}"/>`;
  });
  const every = Math.ceil(n / 8);
  const labels = c.days.map((d, i) => (i % every === 0 ? `<text x="${(PAD.left + i * slot + slot / 2).toFixed(1)}" y="${H - 24}" text-anchor="middle">${d.day.slice(5, 10)}</text>` : '')).join('');
  const budget = c.dailyBudget
    ? `<line x1="${PAD.left}" y1="${y(c.dailyBudget).toFixed(1)}" x2="${W - PAD.right}" y2="${y(c.dailyBudget).toFixed(1)}" stroke="#d9534f" stroke-dasharray="5,4"/><text x="${W - PAD.right}" y="${(y(c.dailyBudget) - 4).toFixed(1)}" text-anchor="end" fill="#d9534f">daily budget</text>`
    : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans" font-size="11" fill="#333">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="18" font-size="13">${esc(c.title)}</text>`,
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#999"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="#999"/>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${money(max)}</text>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end">0</text>`,
    ...bars,
    budget,
    labels,
    `<rect x="${PAD.left}" y="${H - 14}" width="10" height="10" fill="#337ab7"/><text x="${PAD.left + 14}" y="${H - 5}">charged</text>`,
    `<rect x="${PAD.left + 80}" y="${H - 14}" width="10" height="10" fill="#b9d3ee"/><text x="${PAD.left + 94}" y="${H - 5}">forecast</text>`,
    '</svg>',
  ].join('');
}

export function renderCostChart(c: Parameters<typeof costChartSvg>[0]): Buffer {
  const resvg = new Resvg(costChartSvg(c), { font: { fontFiles: [FONT], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'original' } });
  return resvg.render().asPng();
}
