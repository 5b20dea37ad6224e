import type { ControlSnapshot } from '@infrabot/guard';
import type { InfrabotConfig } from '../config/config-schema.js';
import { parseDuration } from '../util/duration.js';
import type { ControlState } from './control-state.js';

/**
 * What services need from the control state, and nothing else: the kill-switch, each cluster's switch,
 * limits and breaker (with its cool-down and trickle, so guards derive half-open themselves) and the state
 * sequence as a monotonically increasing version. Role grants, users and audit data never leave the bot.
 */
export function toControlSnapshot(state: ControlState, config: InfrabotConfig, at: Date): ControlSnapshot {
  const clusters: ControlSnapshot['clusters'] = {};
  for (const [name, c] of Object.entries(state.clusters)) {
    const configured = Object.hasOwn(config.clusters, name) ? config.clusters[name] : undefined;
    const open = c.breaker.state === 'open';
    clusters[name] = {
      enabled: c.enabled,
      ...(c.change ? { change: { by: c.change.by, at: c.change.at, ...(c.change.reason ? { reason: c.change.reason } : {}) } } : {}),
      rateLimits: { ...c.rateLimits },
      breaker: {
        state: c.breaker.state,
        ...(open && c.breaker.change ? { openedAt: c.breaker.change.at } : {}),
        ...(open && c.breaker.change?.reason ? { reason: c.breaker.change.reason } : {}),
        cooldownMs: parseDuration(configured?.breaker.cooldown ?? '5m') ?? 300_000,
        trickle: configured?.breaker.trickle ?? 0.1,
      },
      failMode: configured?.failMode ?? 'open',
    };
  }
  const ks = state.killSwitch;
  return {
    version: state.seq,
    at: at.toISOString(),
    killSwitch: { on: ks.on, ...(ks.change ? { by: ks.change.by, at: ks.change.at, ...(ks.change.reason ? { reason: ks.change.reason } : {}) } : {}) },
    clusters,
  };
}
