export { createGuard, type Guard, type GuardHealth, type GuardOptions } from './create-guard.js';
export { DENY_REASONS, type Decision, type DenyReason } from './decision.js';
export { expressGuard, fastifyGuard, nodeGuard } from './middleware.js';
export { traceIdOf, refusal, type MiddlewareOptions } from './guard-request.js';
export { InfrabotFlagProvider } from './openfeature-provider.js';
export { breakerPhase, parseSnapshot, type BreakerPhase, type ClusterSnapshot, type ControlSnapshot } from './snapshot.js';
export type { ControlFeed } from './snapshot-source.js';
export type { SseSourceOptions } from './sse-source.js';
export { controlKeys, DEFAULT_PREFIX, type ControlKeys } from './keys.js';
export { decideRateLimit, createLocalRateLimiter, type RateDecision } from './decide-rate-limit.js';
export { publishSnapshot, publishedVersion } from './publish-snapshot.js';
export { readGuards, readTraffic, type ClusterTraffic, type GuardSeen } from './read-traffic.js';
export {
  requestDigest, readCharges, MICRO, type BillableRecord, type BillableStats, type ConfirmedCharge, type FinishOutcome, type RefusalReason,
  type Reservation, type ReserveInput, type ReserveResult,
} from './billable.js';
