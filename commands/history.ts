import { z } from 'zod';
import { defineGroup, defineSubcommand, TEXT_LIMITS } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import { describeEvent } from '../src/engine/control-events.js';
import { breakerIcon, describeChange, describeLimits } from '../src/engine/describe-state.js';
import { breakerView } from '../src/engine/control-state.js';
import { parseTimeRef } from '../src/util/duration.js';

const MAX_CHANGES_SHOWN = 25;

export default defineGroup({
  name: 'history',
  summary: 'Control state as it was at a past time, and the changes since.',
  defaultSubcommand: 'history',
  subcommands: [
    defineSubcommand({
      name: 'history',
      summary: 'Rebuild the state of a cluster (or the global kill-switch) at a time from the event log.',
      options: z.object({
        scope: z.string().min(1).max(TEXT_LIMITS.name).describe('A cluster name, or "global" for the kill-switch').meta({ infraType: 'cluster', alsoAccepts: ['global'] }),
        at: z.string().max(TEXT_LIMITS.name).default('1h').describe('ISO 8601 time, or relative like 2h (= two hours ago)').meta({ infraType: 'time' }),
      }),
      positionals: ['scope'],
      role: 'viewer',
      clusterOf: (a) => (a.scope === 'global' ? undefined : a.scope),
      // The global history is the kill-switch, which stops every cluster: anyone with a role somewhere may see it.
      listsClusters: true,
      examples: ['history api --at 2h', 'history global --at 2026-11-20T03:00:00Z'],
      handler: async ({ scope, at }, { engine, state: current, now }) => {
        const when = parseTimeRef(at, now());
        if (!when) throw usage(`--at: "${at}" is not a time; use ISO 8601 or a duration like 30m, 2h, 7d.`);
        const cooldown = scope === 'global' ? '' : engine.cluster(current, scope).breakerCooldown;
        const { state, changesSince } = await engine.stateAt(when, scope);
        const stamp = `${when.toISOString().slice(0, 19).replace('T', ' ')}Z`;
        const fields =
          scope === 'global'
            ? [{ name: 'Kill-switch', value: `${state.killSwitch.on ? '🛑 ON' : 'off'}${describeChange(state.killSwitch.change)}` }]
            : (() => {
                const c = Object.hasOwn(state.clusters, scope) ? state.clusters[scope] : undefined;
                if (!c) return [{ name: 'Cluster', value: 'not configured at that time' }];
                return [
                  { name: 'Traffic', value: `${c.enabled ? '🟢 enabled' : '🔴 disabled'}${describeChange(c.change)}` },
                  { name: 'Breaker', value: `${breakerIcon[breakerView(c.breaker, cooldown, when)]}${describeChange(c.breaker.change)}` },
                  { name: 'Rate limits', value: describeLimits(c.rateLimits) },
                  { name: 'Kill-switch', value: state.killSwitch.on ? '🛑 ON' : 'off' },
                ];
              })();
        const shown = changesSince.slice(-MAX_CHANGES_SHOWN);
        const more = changesSince.length - shown.length;
        return {
          title: `${scope === 'global' ? 'Global' : `Cluster ${scope}`} as of ${stamp}`,
          fields,
          text: changesSince.length
            ? `${changesSince.length} change${changesSince.length === 1 ? '' : 's'} since then${more ? ` (latest ${shown.length} shown)` : ''}:`
            : 'No changes since then.',
          ...(shown.length
            ? { table: { columns: ['time (UTC)', 'by', 'change'], rows: shown.map((e) => [e.at.slice(0, 19).replace('T', ' '), e.actor, describeEvent(e.event)]) } }
            : {}),
        };
      },
    }),
  ],
});
