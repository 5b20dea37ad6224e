import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { describeLimitSource, describeLimits } from '../src/framework/render/describe-state.js';
import { effectiveRateLimits } from '../src/engine/control-state.js';
import { MAX_RATE_LIMIT } from '../src/engine/check-rate-limits.js';
import { checkTimeLimit, revertIfLimited, timeLimitOptions } from '../src/framework/services/schedules.js';
import { rateLimitsData } from '../src/framework/render/state-data.js';

const clusterLimits = rateLimitsData.extend({
  cluster: z.string(),
  effective: rateLimitsData.describe('What guards enforce: the limits above, scaled down while throttled'),
  throttleFactor: z.number().nullable().describe('Share of the limits allowed by budget throttling (null: not throttled)'),
  why: z.string().nullable().describe('Why the effective limits differ, with the numbers'),
  heldBy: z.string().nullable().describe('A person whose `ratelimit set` wins over throttling until `ratelimit release`'),
});

const perWindow = (window: string) => z.number().int().positive().max(MAX_RATE_LIMIT).describe(`Requests allowed per ${window}`);

export default defineGroup({
  name: 'ratelimit',
  summary: 'Show or change per-cluster rate limits.',
  subcommands: [
    defineSubcommand({
      name: 'show',
      summary: 'Show the rate limits of one cluster or of all.',
      options: z.object({ cluster: opt.cluster('Only this cluster').optional() }),
      positionals: ['cluster'],
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['ratelimit show', 'ratelimit show api'],
      data: z.object({ rateLimits: z.array(clusterLimits) }),
      handler: ({ cluster }, { engine, state, canSee }) => {
        const clusters = cluster ? [engine.cluster(state, cluster)] : engine.clusters(state).filter((c) => canSee(c.name));
        return {
          title: cluster ? `Rate limits of ${cluster}` : 'Rate limits',
          table: {
            columns: ['cluster', 'per minute', 'per hour', 'per day', 'enforced', 'why'],
            rows: clusters.map((c) => [
              c.name, ...[c.rateLimits.perMinute, c.rateLimits.perHour, c.rateLimits.perDay].map((n) => n.toLocaleString('en-US')),
              describeLimits(effectiveRateLimits(c)), describeLimitSource(c) || (c.manual ? `set by ${c.manual.by}` : 'as configured'),
            ]),
          },
          data: {
            rateLimits: clusters.map((c) => ({
              cluster: c.name, ...c.rateLimits, effective: effectiveRateLimits(c), throttleFactor: c.throttle?.factor ?? null,
              why: describeLimitSource(c) || null, heldBy: c.manual?.by ?? null,
            })),
          },
        };
      },
    }),
    defineSubcommand({
      name: 'set',
      summary: 'Change one or more rate-limit windows of a cluster.',
      options: z
        .object({
          cluster: opt.cluster(),
          perMinute: perWindow('minute').optional(),
          perHour: perWindow('hour').optional(),
          perDay: perWindow('day').optional(),
          ...timeLimitOptions,
        })
        .refine((a) => a.perMinute !== undefined || a.perHour !== undefined || a.perDay !== undefined, {
          message: 'give at least one of --per-minute, --per-hour, --per-day',
          // Named by each surface in its own terms (flags in chat, JSON fields over HTTP): see describeInputProblems.
          params: { oneOf: ['perMinute', 'perHour', 'perDay'] },
        }),
      positionals: ['cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: [
        'ratelimit set api --per-minute 300',
        'ratelimit set web --per-minute 1000 --per-hour 40000 --per-day 600000',
        'ratelimit set api --per-minute 5000 --until 18:00',
      ],
      data: z.object({ cluster: z.string(), before: rateLimitsData, after: rateLimitsData }),
      handler: (a, ctx) => {
        const { change, engine, state } = ctx;
        const { cluster, perMinute, perHour, perDay } = a;
        checkTimeLimit(ctx, a);
        const before = engine.cluster(state, cluster).rateLimits;
        const after = change.setRateLimits(cluster, {
          ...(perMinute !== undefined ? { perMinute } : {}),
          ...(perHour !== undefined ? { perHour } : {}),
          ...(perDay !== undefined ? { perDay } : {}),
        });
        const undo = [
          ...(perMinute !== undefined ? [`--per-minute ${before.perMinute}`] : []),
          ...(perHour !== undefined ? [`--per-hour ${before.perHour}`] : []),
          ...(perDay !== undefined ? [`--per-day ${before.perDay}`] : []),
        ].join(' ');
        const revert = revertIfLimited(ctx, a, {
          command: () => `ratelimit set ${cluster} ${undo}`,
          guard: { scope: cluster, types: ['ratelimit.set'] },
          what: `The limits of ${cluster} go back to ${describeLimits(before)}`,
        });
        return {
          title: `Rate limits of ${cluster} changed`,
          ...(revert ? { text: revert } : {}),
          fields: [
            { name: 'Before', value: describeLimits(before) },
            { name: 'Now', value: describeLimits(after) },
          ],
          data: { cluster, before: { ...before }, after: { ...after } },
        };
      },
    }),
      defineSubcommand({
      name: 'release',
      summary: 'Hand limits a person set back to automatic budget throttling.',
      options: z.object({ cluster: opt.cluster() }),
      positionals: ['cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['ratelimit release api'],
      data: z.object({ cluster: z.string(), released: z.boolean() }),
      handler: ({ cluster }, { change }) => {
        const released = change.releaseRateLimits(cluster);
        return {
          title: released ? `Rate limits of ${cluster} handed back to automatic throttling` : `Nobody holds the rate limits of ${cluster}`,
          text: released ? 'Budget throttling may lower the enforced limits again when spend nears a budget.' : 'Automatic throttling already applies to it.',
          data: { cluster, released },
        };
      },
    }),
    defineSubcommand({
      name: 'throttle',
      summary: 'Enforce a share of a cluster\'s limits (what budget throttling runs as system; 1 lifts it).',
      options: z.object({
        cluster: opt.cluster(),
        factor: z.number().gt(0).max(1).describe('Share of the limits to enforce, e.g. 0.5; 1 lifts throttling'),
        reason: opt.reason(),
      }),
      positionals: ['cluster'],
      role: 'admin',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['ratelimit throttle api --factor 0.5 --reason "team payments has spent 90% of its daily budget"', 'ratelimit throttle api --factor 1 --reason "budget raised"'],
      data: z.object({ cluster: z.string(), factor: z.number(), changed: z.boolean(), effective: rateLimitsData }),
      handler: ({ cluster, factor, reason }, { change, engine }) => {
        const changed = change.throttle(cluster, factor, reason);
        const c = engine.cluster(change.state, cluster);
        return {
          title: factor >= 1 ? `Throttling of ${cluster} lifted` : `${cluster} throttled to ${Math.round(factor * 100)}% of its limits`,
          fields: [
            { name: 'Enforced', value: describeLimits(effectiveRateLimits(c)) },
            { name: 'Why', value: reason },
            ...(c.manual ? [{ name: 'Note', value: `${c.manual.by} holds these limits: throttling takes effect after \`ratelimit release ${cluster}\`.` }] : []),
          ],
          data: { cluster, factor, changed, effective: effectiveRateLimits(c) },
        };
      },
    }),
      defineSubcommand({
      name: 'adaptive',
      summary: 'Switch adaptive rate limits of a cluster on or off (off: back to the configured limits at once).',
      options: z.object({ mode: z.enum(['on', 'off']).describe('on or off'), cluster: opt.cluster() }),
      positionals: ['mode', 'cluster'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['ratelimit adaptive off api', 'ratelimit adaptive on api'],
      data: z.object({ cluster: z.string(), on: z.boolean(), changed: z.boolean(), effective: rateLimitsData }),
      handler: ({ mode, cluster }, { change, engine }) => {
        const changed = change.setAdaptive(cluster, mode === 'on');
        const c = engine.cluster(change.state, cluster);
        const floor = engine.config.clusters[cluster]?.adaptive?.floor.perMinute ?? 0;
        return {
          title: `Adaptive rate limits of ${cluster} ${mode}${changed ? '' : ' (already)'}`,
          text: mode === 'on'
            ? `Errors or slow responses reported by guards step the limits down, to no less than ${floor.toLocaleString('en-US')}/min; they recover gradually up to the configured limits.`
            : 'The configured limits apply until adaptive limits are switched on again.',
          fields: [{ name: 'Enforced now', value: describeLimits(effectiveRateLimits(c)) }],
          data: { cluster, on: mode === 'on', changed, effective: effectiveRateLimits(c) },
        };
      },
    }),
    defineSubcommand({
      name: 'adapt',
      summary: 'Set the adaptive step of a cluster (what the adaptive controller runs as system; 1 = the configured limits).',
      options: z.object({
        cluster: opt.cluster(),
        factor: z.number().gt(0).max(1).describe('Share of the configured limits to enforce'),
        reason: opt.reason(),
      }),
      positionals: ['cluster'],
      role: 'admin',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['ratelimit adapt api --factor 0.5 --reason "error rate 12.0% over 30s (60 of 500 requests)"'],
      data: z.object({ cluster: z.string(), factor: z.number(), changed: z.boolean(), effective: rateLimitsData }),
      handler: ({ cluster, factor, reason }, { change, engine }) => {
        const changed = change.adapt(cluster, factor, reason);
        const c = engine.cluster(change.state, cluster);
        return {
          title: factor >= 1 ? `${cluster} is back at its configured limits` : `${cluster} limited to ${Math.round(factor * 100)}% of its configured limits`,
          fields: [{ name: 'Enforced', value: describeLimits(effectiveRateLimits(c)) }, { name: 'Why', value: reason }],
          data: { cluster, factor, changed, effective: effectiveRateLimits(c) },
        };
      },
    }),
  ],
});
