import type { CostRow } from './cost-row.js';
import { forecastSpend, type SpendForecast } from './forecast-spend.js';

const DAY = 86_400_000;

export interface CostReport {
  since: string;
  until: string;
  currency: string;
  /** Currencies other than the main one that also had spend (reported apart, never summed). */
  otherCurrencies: string[];
  total: number;
  by: 'cluster' | 'team' | 'action';
  groups: { key: string; amount: number; count: number }[];
  days: { day: string; amount: number }[];
  forecast: SpendForecast & { periodEnd: string; monthToDate: number; monthTotal: number; historyDays: number };
}

/**
 * Spend of a period by cluster, team or action, per day, and a forecast of the current month's total:
 * month-to-date (including today) plus Holt's forecast of each remaining day, fitted on complete past days.
 */
export function computeCosts(
  rows: readonly CostRow[],
  opts: { since: Date; until: Date; by: CostReport['by']; defaultCurrency: string; fitSince?: Date },
): CostReport {
  // `rows` may reach back further than the period shown (to `fitSince`, see costDataSince): the month so far
  // and the forecast's fit use all of them, the table, chart and total only the period asked for.
  const sinceDay = new Date(Math.floor(opts.since.getTime() / DAY) * DAY).toISOString().slice(0, 10);
  const shown = rows.filter((r) => r.day >= sinceDay);
  const perCurrency = new Map<string, number>();
  for (const r of shown) perCurrency.set(r.currency, (perCurrency.get(r.currency) ?? 0) + r.amount);
  const currency = [...perCurrency.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? opts.defaultCurrency;
  const all = rows.filter((r) => r.currency === currency);
  const main = shown.filter((r) => r.currency === currency);
  const groups = new Map<string, { amount: number; count: number }>();
  for (const r of main) {
    const key = opts.by === 'cluster' ? r.cluster : opts.by === 'team' ? (r.team ?? '(no team)') : r.action;
    const g = groups.get(key) ?? { amount: 0, count: 0 };
    g.amount += r.amount;
    g.count += r.count;
    groups.set(key, g);
  }
  const byDay = new Map<string, number>();
  for (const r of main) byDay.set(r.day, (byDay.get(r.day) ?? 0) + r.amount);
  const first = Math.floor(opts.since.getTime() / DAY) * DAY;
  const today = Math.floor(opts.until.getTime() / DAY) * DAY;
  const days: CostReport['days'] = [];
  for (let t = first; t <= today; t += DAY) {
    const day = new Date(t).toISOString().slice(0, 10);
    days.push({ day, amount: byDay.get(day) ?? 0 });
  }
  const allByDay = new Map<string, number>();
  for (const r of all) allByDay.set(r.day, (allByDay.get(r.day) ?? 0) + r.amount);
  // Complete days only: today's partial spend would pull the trend down.
  const fitFrom = Math.floor(Math.min(opts.fitSince?.getTime() ?? Infinity, opts.since.getTime()) / DAY) * DAY;
  const history: number[] = [];
  for (let t = fitFrom; t < today; t += DAY) history.push(allByDay.get(new Date(t).toISOString().slice(0, 10)) ?? 0);
  const now = opts.until;
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const periodEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const remaining = Math.round((periodEnd - today) / DAY) - 1;
  const f = forecastSpend(history, Math.max(0, remaining));
  const monthToDate = all.filter((r) => Date.parse(r.day) >= monthStart).reduce((s, r) => s + r.amount, 0);
  return {
    since: opts.since.toISOString(), until: opts.until.toISOString(), currency,
    otherCurrencies: [...perCurrency.keys()].filter((c) => c !== currency).sort(),
    total: main.reduce((s, r) => s + r.amount, 0),
    by: opts.by,
    groups: [...groups.entries()].map(([key, g]) => ({ key, ...g })).sort((a, b) => b.amount - a.amount),
    days,
    forecast: { ...f, periodEnd: new Date(periodEnd).toISOString(), monthToDate, monthTotal: monthToDate + f.total, historyDays: history.length },
  };
}

/**
 * How far back to read costs for a report over [since, until): at least the whole current month (for the month
 * so far) and the last 60 days (so a short period shown still gets a forecast fitted on enough history).
 */
export function costDataSince(since: Date, until: Date): Date {
  const monthStart = Date.UTC(until.getUTCFullYear(), until.getUTCMonth(), 1);
  return new Date(Math.min(since.getTime(), monthStart, until.getTime() - 60 * DAY));
}
