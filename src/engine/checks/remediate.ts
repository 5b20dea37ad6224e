import type { Logger } from 'pino';
import type { CheckConfig } from '../../config/health-config-schema.js';
import type { HealthStore } from '../../store/health-store.js';
import { parseDuration } from '../../util/duration.js';
import type { Clock, RunCommand } from '../ports.js';

export interface RemediationDeps {
  health: HealthStore;
  clock: Clock;
  run: RunCommand;
  log: Logger;
  checkOf: (name: string) => { cluster: string; check: CheckConfig } | undefined;
}

/**
 * Automatic remediation of checks down longer than their `remediation.after`: the configured command (trip
 * the breaker, disable the cluster) run through the pipeline as `system`, audited like any command. Once per
 * outage across replicas and restarts: its invocation id names the check and when it went down, so a second
 * attempt (another replica, or this one after a crash before `remediatedAt` was written) is a duplicate that
 * executes nothing; `remediatedAt` is then set compare-and-set on the check state.
 */
export async function remediateDue(deps: RemediationDeps): Promise<number> {
  const { health } = deps;
  const now = deps.clock.now();
  let done = 0;
  for (const s of await health.checkStates()) {
    const m = deps.checkOf(s.check);
    const r = m?.check.remediation;
    if (!m || !r || s.status !== 'down' || s.remediatedAt || !s.downSince) continue;
    if (now.getTime() - Date.parse(s.downSince) < (parseDuration(r.after) ?? Infinity)) continue;
    const command = r.action === 'trip-breaker' ? 'breaker trip' : 'cluster disable';
    const reason = `auto-remediation: ${m.check.name} down since ${s.downSince}`;
    await deps.run({
      id: `remediation:${m.check.name}:${s.downSince}`, platform: 'system', user: { id: 'system', displayName: 'system (automatic remediation)' },
      text: `${command} ${m.cluster} --reason "${reason}"`, confirmed: true,
    });
    const at = now.toISOString();
    const marked = await health.unit(async () => {
      const fresh = await health.checkState(s.check);
      if (!fresh || fresh.remediatedAt || fresh.downSince !== s.downSince) return false;
      const alert = await health.firingAlert(`down:${m.check.name}`);
      await health.commit(
        {
          states: [{ ...fresh, remediatedAt: at }],
          ...(alert ? { alertEvents: [{ alertId: alert.id, at, cluster: m.cluster, type: 'remediated' as const, actor: 'system', detail: `${command} ${m.cluster}` }] } : {}),
        },
        at,
      );
      return true;
    });
    if (marked) {
      done++;
      deps.log.warn({ check: m.check.name, cluster: m.cluster, action: r.action }, 'automatic remediation');
    }
  }
  return done;
}
