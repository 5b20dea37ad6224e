/**
 * Streaming latency baseline: EWMA of the mean and variance (λ = 0.25). A sample is anomalous when it is
 * more than `zScore` standard deviations above the mean and more than `minDeltaMs` above it, after warm-up.
 */
export const EWMA_LAMBDA = 0.25;
export const WARM_UP_SAMPLES = 10;

export interface Baseline {
  mean?: number;
  variance?: number;
  samples: number;
}

export function isAnomalous(b: Baseline, latencyMs: number, zScore: number, minDeltaMs: number): boolean {
  if (b.samples < WARM_UP_SAMPLES || b.mean === undefined || b.variance === undefined) return false;
  const delta = latencyMs - b.mean;
  return delta > minDeltaMs && delta > zScore * Math.sqrt(b.variance);
}

/**
 * Folds a normal sample in. Anomalous samples are left out entirely: the baseline stays frozen at what was
 * normal before the departure, so a lasting slowdown can never inflate the variance until it looks normal
 * (a DEGRADED check stays degraded until latency really returns), and alerts name the pre-incident baseline.
 */
export function updateBaseline(b: Baseline, latencyMs: number, anomalous = false): Baseline {
  if (anomalous) return b;
  if (b.mean === undefined || b.variance === undefined) return { mean: latencyMs, variance: 0, samples: b.samples + 1 };
  const diff = latencyMs - b.mean;
  const mean = b.mean + EWMA_LAMBDA * diff;
  const variance = (1 - EWMA_LAMBDA) * (b.variance + EWMA_LAMBDA * diff * diff);
  return { mean, variance, samples: b.samples + 1 };
}
