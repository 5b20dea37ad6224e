/**
 * Forecast of daily spend with Holt's linear method (double exponential smoothing: a level and a trend, each
 * updated from the last day's error). α and β are picked from a small grid by the smallest one-step-ahead
 * error on the history itself, and that error (mean absolute percentage error of each day forecast from the
 * days before it) is reported with the forecast, so a reader knows how far to trust it.
 */
export interface SpendForecast {
  /** Forecast spend of each coming day (never below 0). */
  days: number[];
  total: number;
  alpha: number;
  beta: number;
  /** Mean absolute percentage error of one-step-ahead forecasts over the history (days with spend only); undefined with < 4 days. */
  mape?: number;
  /** The same error in currency: mean absolute error per day. */
  mae?: number;
}

const GRID = [0.1, 0.2, 0.3, 0.5, 0.7, 0.9];

function run(history: readonly number[], alpha: number, beta: number) {
  let level = history[0] ?? 0;
  let trend = history.length > 1 ? history[1]! - history[0]! : 0;
  let absErr = 0;
  let pctErr = 0;
  let pctN = 0;
  for (let i = 1; i < history.length; i++) {
    const predicted = Math.max(0, level + trend);
    const actual = history[i]!;
    absErr += Math.abs(actual - predicted);
    if (actual > 0) {
      pctErr += Math.abs(actual - predicted) / actual;
      pctN++;
    }
    const prev = level;
    level = alpha * actual + (1 - alpha) * (level + trend);
    trend = beta * (level - prev) + (1 - beta) * trend;
  }
  const steps = Math.max(1, history.length - 1);
  return { level, trend, mae: absErr / steps, mape: pctN ? pctErr / pctN : undefined };
}

export function forecastSpend(history: readonly number[], horizonDays: number): SpendForecast {
  if (history.length === 0) return { days: Array.from({ length: horizonDays }, () => 0), total: 0, alpha: 0, beta: 0 };
  let best = { alpha: 0.5, beta: 0.3, ...run(history, 0.5, 0.3) };
  for (const alpha of GRID) {
    for (const beta of GRID) {
      const r = run(history, alpha, beta);
      if (r.mae < best.mae) best = { alpha, beta, ...r };
    }
  }
  const days = Array.from({ length: horizonDays }, (_, h) => Math.max(0, best.level + (h + 1) * best.trend));
  const enough = history.length >= 4;
  return {
    days, total: days.reduce((s, d) => s + d, 0), alpha: best.alpha, beta: best.beta,
    ...(enough && best.mape !== undefined ? { mape: best.mape } : {}),
    ...(enough ? { mae: best.mae } : {}),
  };
}
