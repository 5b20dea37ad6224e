import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { describeLimits } from '../src/engine/describe-state.js';
import { MAX_RATE_LIMIT } from '../src/engine/check-rate-limits.js';
import { checkTimeLimit, revertIfLimited, timeLimitOptions } from '../src/framework/services/schedules.js';
import { rateLimitsData } from '../src/engine/state-data.js';

const clusterLimits = rateLimitsData.extend({ cluster: z.string() });

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
            columns: ['cluster', 'per minute', 'per hour', 'per day'],
            rows: clusters.map((c) => [c.name, ...[c.rateLimits.perMinute, c.rateLimits.perHour, c.rateLimits.perDay].map((n) => n.toLocaleString('en-US'))]),
          },
          data: { rateLimits: clusters.map((c) => ({ cluster: c.name, ...c.rateLimits })) },
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
  ],
});
