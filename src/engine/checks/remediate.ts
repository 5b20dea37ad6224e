import type { Logger } from 'pino';
import type { CheckConfig } from '../../config/health-config-schema.js';
import type { HealthStore } from '../../store/health-store.js';
import type { Store } from '../../store/store.js';
import { parseDuration } from '../../util/duration.js';
import { shortId } from '../../util/ids.js';
import { systemReply } from '../alerts/render-notification.js';
import type { Engine } from '../engine.js';

export interface RemediationDeps {
  health: HealthStore;
  store: Store;
  engine: Engine;
  log: Logger;
  checkOf: (name: string) => { cluster: string; check: CheckConfig } | undefined;
}

/**
 * Automatic remediation of checks down longer than their `remediation.after`: the configured control change
 * (trip the breaker, disable the cluster) made by the engine as actor `system`, audited like a command. Fires
 * once per outage across replicas: its invocation key names the check and when it went down, so a second
 * replica's attempt is a duplicate that writes nothing, and the check's `remediatedAt` is set in the same unit
 * of work (compare-and-set on the check state).
 */
export async function remediateDue(deps: RemediationDeps): Promise<number> {
  const { health, store, engine } = deps;
  const now = engine.clock.now();
  let done = 0;
  for (const s of await health.checkStates()) {
    const m = deps.checkOf(s.check);
    const r = m?.check.remediation;
    if (!m || !r || s.status !== 'down' || s.remediatedAt || !s.downSince) continue;
    if (now.getTime() - Date.parse(s.downSince) < (parseDuration(r.after) ?? Infinity)) continue;
    for (let attempt = 0; attempt < 3; attempt++) {
      const state = await engine.state();
      const change = engine.change(state, 'system');
      const reason = `auto-remediation: ${m.check.name} down since ${s.downSince}`;
      const changed = r.action === 'trip-breaker' ? change.tripBreaker(m.cluster, reason) : change.setClusterEnabled(m.cluster, false, reason);
      const command = r.action === 'trip-breaker' ? 'breaker trip' : 'cluster disable';
      const invocationId = `remediation-${shortId(12)}`;
      const at = now.toISOString();
      const result = await store.commit({
        invocationKey: `system:remediation:${m.check.name}:${s.downSince}`,
        reply: systemReply({ title: `Automatic remediation: ${command} ${m.cluster}`, text: reason, severity: 'warning' }, now),
        expectedSeq: state.seq,
        events: change.events,
        state: change.state,
        audit: {
          at, platform: 'system', userId: 'system', userName: 'system', rawText: `${command} ${m.cluster} --reason "${reason}"`,
          command, args: { cluster: m.cluster, reason }, cluster: m.cluster, outcome: 'ok', traceId: shortId(), invocationId,
        },
        effects: [
          () =>
            health.unit(async () => {
              const fresh = await health.checkState(s.check);
              if (!fresh || fresh.remediatedAt) return;
              const alert = await health.firingAlert(`down:${m.check.name}`);
              await health.commit(
                {
                  states: [{ ...fresh, remediatedAt: at }],
                  ...(alert ? { alertEvents: [{ alertId: alert.id, at, cluster: m.cluster, type: 'remediated' as const, actor: 'system', detail: `${command} ${m.cluster}${changed ? '' : ' (already in that state)'}` }] } : {}),
                },
                at,
              );
            }),
        ],
      });
      if (result.ok) {
        done++;
        deps.log.warn({ check: m.check.name, cluster: m.cluster, action: r.action, changed }, 'automatic remediation');
        break;
      }
      if (result.reason === 'duplicate') break; // another replica remediated this outage
      // 'conflict': the control state moved on meanwhile; decide again on the new one
    }
  }
  return done;
}
