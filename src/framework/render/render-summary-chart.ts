import { Resvg } from '@resvg/resvg-js';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../util/package-root.js';
import type { Summary } from '../../engine/summary/compute-summary.js';

/** Shipped with the repo (Bitstream Vera licence, assets/fonts/LICENSE-DejaVu.txt) so text renders the same everywhere. */
const FONT = join(PACKAGE_ROOT, 'assets', 'fonts', 'DejaVuSans.ttf');
const W = 600;
const H = 200;
const PAD = { left: 36, right: 12, top: 28, bottom: 28 };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The chart as SVG: alerts fired per hour or day of the period, as bars, with a title and axis labels. */
export function summaryChartSvg(s: Pick<Summary, 'buckets' | 'bucketMs'>, title: string): string {
  const n = Math.max(1, s.buckets.length);
  const max = Math.max(1, ...s.buckets.map((b) => b.alerts));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / n;
  const daily = s.bucketMs >= 86_400_000;
  const bars = s.buckets.map((b, i) => {
    const h = (b.alerts / max) * plotH;
    const x = PAD.left + i * slot + slot * 0.15;
    return `<rect x="${x.toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="#d9534f"/>`;
  });
  // At most ~8 labels along the bottom, so they never overlap.
  const every = Math.ceil(n / 8);
  const labels = s.buckets
    .map((b, i) => (i % every === 0 ? `<text x="${(PAD.left + i * slot + slot / 2).toFixed(1)}" y="${H - 10}" text-anchor="middle">${daily ? b.start.slice(5, 10) : `${b.start.slice(11, 13)}h`}</text>` : ''))
    .join('');
  const empty = s.buckets.every((b) => b.alerts === 0) ? `<text x="${W / 2}" y="${PAD.top + plotH / 2}" text-anchor="middle" fill="#3c763d" font-size="14">No alerts in this period</text>` : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans" font-size="11" fill="#333">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="18" font-size="13">${esc(title)}</text>`,
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#999"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="#999"/>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${max}</text>`,
    `<text x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end">0</text>`,
    ...bars,
    labels,
    empty,
    '</svg>',
  ].join('');
}

/** Renders the chart to PNG with resvg (no system libraries or fonts needed). */
export function renderSummaryChart(s: Pick<Summary, 'buckets' | 'bucketMs'>, title: string): Buffer {
  return svgToPng(summaryChartSvg(s, title));
}

/** Any chart SVG of ours to PNG, with the shipped font. */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { fontFiles: [FONT], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'original' },
  });
  return resvg.render().asPng();
}
