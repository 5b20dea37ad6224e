import type { Logger } from 'pino';
import type { RunCommand } from './ports.js';
import { parseDuration } from '../util/duration.js';
import { shortId } from '../util/ids.js';
import type { ControlPublisher } from './control-publisher.js';
import type { Engine } from './engine.js';
import { SYSTEM_USER } from './traffic-monitor.js';

export interface AdaptiveController {
  /** One evaluation of every cluster with an adaptive policy. */
  tick(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
/** Factors are kept to 0.01 steps so events read cleanly and equal steps compare equal. */
const round = (f: number) => Math.round(f * 100) / 100;

/**
 * Adaptive rate limits (AIMD): reads what guards report for each cluster with an `adaptive` policy; when its
 * error rate or average latency crosses the policy the enforced limits step down (× decrease, never under
 * the floor), when healthy they step up (+ increase of the ceiling, never over it). Each step is a command
 * run as `system` through the pipeline (authorized, audited, published); a Redis claim per cluster and
 * interval makes replicas step once. A person's `ratelimit set` wins until `ratelimit release`.
 */
export function createAdaptiveController(opts: {
  engine: Engine;
  publisher?: ControlPublisher;
  run: RunCommand;
  /** Posts a line in the cluster's channel (the alert routes of the cluster). */
  announce?: (cluster: string, text: string) => Promise<void>;
  log: Logger;
  tickMs?: number;
}): AdaptiveController {
  const { engine, publisher, log } = opts;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function evaluate(): Promise<void> {
    if (!publisher) return;
    const state = await engine.state();
    for (const [name, cc] of Object.entries(engine.config.clusters)) {
      const policy = cc.adaptive;
      if (!policy || !Object.hasOwn(state.clusters, name)) continue;
      const c = state.clusters[name]!;
      if (c.adaptive?.off || c.manual) continue;
      const windowMs = parseDuration(policy.window) ?? 30_000;
      const t = (await publisher.traffic([name], Math.max(1, Math.round(windowMs / 1000))))[name];
      if (!t || t.finished < policy.minRequests) continue;
      const floor = Math.min(1, policy.floor.perMinute / Math.max(1, c.rateLimits.perMinute));
      const current = c.adaptive?.factor ?? 1;
      const numbers = `error rate ${pct(t.errorRate ?? 0)} (${t.errors} of ${t.finished} requests), average latency ${Math.round(t.avgLatencyMs ?? 0)} ms over ${policy.window}`;
      const degraded = (t.errorRate ?? 0) >= policy.errorRate || (t.avgLatencyMs ?? 0) >= policy.latencyMs;
      const next = round(degraded ? Math.max(floor, current * policy.decrease) : Math.min(1, current + policy.increase));
      if (next === current) continue;
      // One step per interval for all replicas together.
      if (!(await publisher.claim(`${name}:adapt`, parseDuration(policy.interval) ?? 30_000))) continue;
      const reason = degraded
        ? `${numbers}; policy: error rate < ${pct(policy.errorRate)}, latency < ${policy.latencyMs} ms`
        : `healthy again: ${numbers}`;
      log.warn({ cluster: name, from: current, to: next }, 'adaptive rate limit step');
      await opts.run({ id: `auto-${shortId(12)}`, platform: 'system', user: { id: SYSTEM_USER, displayName: 'system (adaptive limits)' }, text: `ratelimit adapt ${name} --factor ${next} --reason "${reason}"`, confirmed: true });
      if (opts.announce && (await publisher.claim(`${name}:adapt-announce`, parseDuration(policy.announceEvery) ?? 600_000))) {
        await opts.announce(name, `${degraded ? '📉' : '📈'} Adaptive rate limits of ${name} now at ${Math.round(next * 100)}% of configured (${reason}). \`ratelimit set\` overrides; \`ratelimit adaptive off ${name}\` stops it.`)
          .catch((err: unknown) => log.warn({ err, cluster: name }, 'announcing an adaptive step failed'));
      }
    }
  }

  return {
    tick: async () => {
      try {
        await evaluate();
      } catch (err) {
        log.warn({ err }, 'adaptive rate-limit evaluation failed; will try again');
      }
    },
    start() {
      if (!publisher || timer || !Object.values(engine.config.clusters).some((c) => c.adaptive)) return;
      timer = setInterval(() => {
        running ??= this.tick().finally(() => (running = undefined));
      }, opts.tickMs ?? 1_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
