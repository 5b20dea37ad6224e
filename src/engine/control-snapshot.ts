import type { ControlSnapshot } from '@infrabot/guard';
import type { InfrabotConfig } from '../config/config-schema.js';
import { parseDuration } from '../util/duration.js';
import { effectiveRateLimits, type ControlState } from './control-state.js';

/**
 * What services need from the control state, and nothing else: the kill-switch, each cluster's switch,
 * limits and breaker (with its cool-down and trickle, so guards derive half-open themselves) and the state
 * sequence as a monotonically increasing version. Role grants, users (not even who made a change), reasons
 * and audit data never leave the bot.
 */
export function toControlSnapshot(state: ControlState, config: InfrabotConfig, at: Date): ControlSnapshot {
  const clusters: ControlSnapshot['clusters'] = {};
  for (const [name, c] of Object.entries(state.clusters)) {
    const configured = Object.hasOwn(config.clusters, name) ? config.clusters[name] : undefined;
    const open = c.breaker.state === 'open';
    clusters[name] = {
      enabled: c.enabled,
      ...(c.change ? { changedAt: c.change.at } : {}),
      rateLimits: { ...effectiveRateLimits(c) },
      breaker: {
        state: c.breaker.state,
        ...(open && c.breaker.change ? { openedAt: c.breaker.change.at } : {}),
        cooldownMs: parseDuration(configured?.breaker.cooldown ?? '5m') ?? 300_000,
        trickle: configured?.breaker.trickle ?? 0.1,
      },
      failMode: configured?.failMode ?? 'open',
    };
    const budget = state.budgets?.[`cluster:${name}`];
    const prices = configured?.prices ?? {};
    if (budget || Object.keys(prices).length > 0) {
      clusters[name]!.billing = {
        currency: budget?.currency ?? config.billing.currency,
        ...(budget?.daily ? { daily: budget.daily } : {}),
        ...(budget?.monthly ? { monthly: budget.monthly } : {}),
        ...(Object.keys(prices).length > 0 ? { prices: { ...prices } } : {}),
      };
    }
  }
  const ks = state.killSwitch;
  return {
    version: state.seq,
    at: at.toISOString(),
    killSwitch: { on: ks.on, ...(ks.change ? { at: ks.change.at } : {}) },
    clusters,
  };
}
