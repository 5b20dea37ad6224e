/** Why a guard refused a request. */
export type DenyReason = 'killswitch' | 'cluster-disabled' | 'breaker-open' | 'rate-limited' | 'unavailable';

export const DENY_REASONS: readonly DenyReason[] = ['killswitch', 'cluster-disabled', 'breaker-open', 'rate-limited', 'unavailable'];

export type Decision =
  | {
      allowed: true;
      /** Set when the guard let the request through without being able to check everything. */
      degraded?: 'stale' | 'rate-limit-unavailable';
      /** Requests left in the minute, hour and day windows (-1 = no limit), when a rate limit was checked. */
      remaining?: [number, number, number];
    }
  | {
      allowed: false;
      reason: DenyReason;
      /** 503 for switches, breakers and an unreachable limiter that fails closed; 429 for rate limits. */
      status: 503 | 429;
      /** Whole seconds, at least 1: what `Retry-After` carries. */
      retryAfterSeconds: number;
      /** A short, client-safe sentence (operators' reasons are not exposed to callers). */
      message: string;
    };

const MESSAGES: Record<DenyReason, string> = {
  killswitch: 'Service temporarily unavailable: traffic is stopped by the global kill-switch.',
  'cluster-disabled': 'Service temporarily unavailable: this cluster is disabled.',
  'breaker-open': 'Service temporarily unavailable: the circuit breaker is open.',
  'rate-limited': 'Too many requests: rate limit reached.',
  unavailable: 'Service temporarily unavailable: the rate limiter cannot be reached.',
};

export function deny(reason: DenyReason, retryAfterMs: number): Extract<Decision, { allowed: false }> {
  return {
    allowed: false,
    reason,
    status: reason === 'rate-limited' ? 429 : 503,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    message: MESSAGES[reason],
  };
}

export const ALLOW: Decision = Object.freeze({ allowed: true });
