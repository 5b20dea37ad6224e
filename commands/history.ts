import { z } from 'zod';
import { defineGroup, defineSubcommand, TEXT_LIMITS } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import { describeEvent } from '../src/engine/control-events.js';
import { breakerIcon, describeChange, describeLimits } from '../src/framework/render/describe-state.js';
import { breakerView } from '../src/engine/control-state.js';
import { parseTimeRef } from '../src/util/duration.js';
import { breakerData, changeData, isoTime, rateLimitsData, toChangeData } from '../src/framework/render/state-data.js';

const MAX_CHANGES_SHOWN = 25;

export default defineGroup({
  name: 'history',
  summary: 'Control state as it was at a past time, and the changes since.',
  defaultSubcommand: 'history',
  subcommands: [
    defineSubcommand({
      name: 'history',
      summary: 'Rebuild the state of a cluster (or the global kill-switch) at a time from the event log; a cluster\'s changes since include the kill-switch.',
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
      data: z.object({
        scope: z.string(),
        at: isoTime,
        killSwitch: z.object({ on: z.boolean(), change: changeData.nullable() }),
        cluster: z
          .object({ enabled: z.boolean(), change: changeData.nullable(), breaker: breakerData.omit({ cooldownMs: true }), rateLimits: rateLimitsData })
          .nullable()
          .describe('null for "global", or when the cluster was not configured at that time'),
        changeCount: z.number().int(),
        changes: z
          .array(z.object({ seq: z.number().int(), at: isoTime, actor: z.string(), scope: z.string(), type: z.string(), reason: z.string().nullable() }))
          .describe('The latest changes since then (at most 25), oldest first'),
      }),
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
        const then = scope !== 'global' && Object.hasOwn(state.clusters, scope) ? state.clusters[scope] : undefined;
        const data = {
          scope,
          at: when.toISOString(),
          killSwitch: { on: state.killSwitch.on, change: toChangeData(state.killSwitch.change) },
          cluster: then
            ? {
                enabled: then.enabled,
                change: toChangeData(then.change),
                breaker: { state: breakerView(then.breaker, cooldown, when), change: toChangeData(then.breaker.change) },
                rateLimits: { ...then.rateLimits },
              }
            : null,
          changeCount: changesSince.length,
          changes: shown.map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, scope: e.scope, type: e.event.type, reason: ('reason' in e.event && e.event.reason) || null })),
        };
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
          data,
        };
      },
    }),
  ],
});
