import type { CheckConfig } from '../../config/health-config-schema.js';
import type { CheckState, HealthBatch, HealthStore } from '../../store/health-store.js';
import type { AlertManager } from '../alerts/alert-manager.js';
import type { Clock } from '../engine.js';
import { evaluateCheck, initialCheckState, type Transition } from './evaluate-check.js';
import type { ProbeOutcome } from './run-probe.js';

export interface ResultDecision {
  batch: HealthBatch;
  state: CheckState;
  transitions: Transition[];
}

/**
 * Folds one probe outcome into a check's stored state (evaluateCheck is pure) and turns the state changes into
 * alert writes. Reads go through the current unit of work; the state is written compare-and-set on the version
 * read, so a concurrent writer makes the unit decide again rather than be overwritten.
 */
export async function decideResult(
  deps: { health: HealthStore; alerts: AlertManager; clock: Clock },
  m: { cluster: string; check: CheckConfig },
  outcome: ProbeOutcome,
): Promise<ResultDecision> {
  const at = deps.clock.now().toISOString();
  const stored = await deps.health.checkState(m.check.name);
  const prev = stored ?? initialCheckState(m.check, m.cluster, at);
  const { state, transitions } = evaluateCheck(m.check, prev, outcome, at);
  const batch: HealthBatch = {
    results: [{ check: m.check.name, at, ok: outcome.ok, latencyMs: outcome.latencyMs, ...(outcome.error ? { error: outcome.error } : {}) }],
    // Carries the version read (none when new; evaluateCheck keeps prev's fields): compare-and-set against it.
    states: [state],
  };
  if (transitions.length) await deps.alerts.apply(batch, m.cluster, m.check, transitions);
  return { batch, state, transitions };
}
