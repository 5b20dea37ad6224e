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
 * Folds a sample in. Anomalous samples get a tenth of the weight so a spike does not drag the baseline
 * along with it (which would hide the very departure being measured), while a lasting new normal is
 * still learned over time.
 */
export function updateBaseline(b: Baseline, latencyMs: number, anomalous = false): Baseline {
  const lambda = anomalous ? EWMA_LAMBDA / 10 : EWMA_LAMBDA;
  if (b.mean === undefined || b.variance === undefined) return { mean: latencyMs, variance: 0, samples: b.samples + 1 };
  const diff = latencyMs - b.mean;
  const mean = b.mean + lambda * diff;
  const variance = (1 - lambda) * (b.variance + lambda * diff * diff);
  return { mean, variance, samples: b.samples + 1 };
}
