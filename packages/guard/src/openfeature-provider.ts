import type { ErrorCode, JsonValue, OpenFeatureEventEmitter, Provider, ProviderEvents, ResolutionDetails } from '@openfeature/server-sdk';
import type { Guard } from './create-guard.js';

/**
 * OpenFeature provider over a guard's snapshot, so services already using the vendor-neutral SDK read
 * infrabot's switches as boolean flags (local lookups, no I/O):
 *   `killswitch`                 → the global kill-switch is on
 *   `cluster.<name>.enabled`     → the cluster may serve traffic (its switch on and the kill-switch off)
 *   `cluster.<name>.breaker-open` → its breaker is open or half-open
 * Reasons: STATIC while current, STALE while the guard cannot reach its source; unknown keys → FLAG_NOT_FOUND.
 * Pass `{ events: new OpenFeatureEventEmitter() }` to get PROVIDER_CONFIGURATION_CHANGED on every change,
 * PROVIDER_STALE while the guard cannot reach its source and PROVIDER_READY when it is current again.
 * `@openfeature/server-sdk` is an optional peer dependency: only types are imported from it.
 */
export class InfrabotFlagProvider implements Provider {
  readonly metadata = { name: 'infrabot' } as const;
  readonly runsOn = 'server' as const;
  readonly events?: OpenFeatureEventEmitter;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly guard: Guard,
    opts: { events?: OpenFeatureEventEmitter } = {},
  ) {
    const events = opts.events;
    if (!events) return;
    this.events = events;
    // Enum values as strings: the SDK is a peer, so nothing of it is loaded at run time from here.
    const emit = (e: `${ProviderEvents}`) => events.emit(e as ProviderEvents);
    this.unsubscribe.push(
      guard.onChange(() => emit('PROVIDER_CONFIGURATION_CHANGED')),
      guard.onStatus((status) => emit(status === 'ready' ? 'PROVIDER_READY' : 'PROVIDER_STALE')),
    );
  }

  async onClose(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  async resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): Promise<ResolutionDetails<boolean>> {
    const snap = this.guard.snapshot();
    const reason = this.guard.health().status === 'ready' ? 'STATIC' : 'STALE';
    if (!snap) return { value: defaultValue, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' as ErrorCode, errorMessage: 'no control snapshot yet' };
    if (flagKey === 'killswitch') return { value: snap.killSwitch.on, variant: snap.killSwitch.on ? 'on' : 'off', reason };
    const m = /^cluster\.([a-z0-9][a-z0-9-]*)\.(enabled|breaker-open)$/.exec(flagKey);
    const c = m && Object.hasOwn(snap.clusters, m[1]!) ? snap.clusters[m[1]!] : undefined;
    if (!m || !c) return notFound(flagKey, defaultValue);
    const value = m[2] === 'enabled' ? c.enabled && !snap.killSwitch.on : c.breaker.state === 'open';
    return { value, variant: value ? 'on' : 'off', reason };
  }

  async resolveStringEvaluation(flagKey: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return typeMismatch(flagKey, defaultValue);
  }

  async resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return typeMismatch(flagKey, defaultValue);
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return typeMismatch(flagKey, defaultValue);
  }
}

const notFound = <T>(flagKey: string, value: T): ResolutionDetails<T> => ({
  value,
  reason: 'ERROR',
  errorCode: 'FLAG_NOT_FOUND' as ErrorCode,
  errorMessage: `infrabot has no flag "${flagKey}" (try killswitch, cluster.<name>.enabled, cluster.<name>.breaker-open)`,
});

const typeMismatch = <T>(flagKey: string, value: T): ResolutionDetails<T> => ({
  value,
  reason: 'ERROR',
  errorCode: 'TYPE_MISMATCH' as ErrorCode,
  errorMessage: `infrabot flags are booleans; "${flagKey}" was asked for as another type`,
});
