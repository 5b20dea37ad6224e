import type { ClusterTraffic, GuardSeen } from '@infrabot/guard';
import type { Logger } from 'pino';
import { parseDuration } from '../util/duration.js';
import { shortId } from '../util/ids.js';
import type { ControlPublisher } from './control-publisher.js';
import type { Engine } from './engine.js';
import type { RunCommand } from './ports.js';

/** The window `status` and confirmations summarize live traffic over. */
export const LIVE_WINDOW_SECONDS = 10;
/** The user automatic actions run as; adapters cannot produce an id without a platform prefix. */
export const SYSTEM_USER = 'system';

export interface TrafficMonitor {
  /** Live traffic per cluster over the last LIVE_WINDOW_SECONDS; undefined without Redis or when it fails. */
  live(): Promise<Record<string, ClusterTraffic> | undefined>;
  /** The guards that reported recently, per cluster; undefined without Redis or when it fails. */
  guards(): Promise<Record<string, GuardSeen[]> | undefined>;
  /** One evaluation of the automatic breaker rules (runs every second once started). */
  tick(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Reads the guards' reported outcomes and trips a cluster's breaker when its error rate crosses the
 * configured threshold (`breaker.autoTrip`), or resets it when the half-open trial traffic is healthy again.
 * It acts by running `breaker trip|reset` through the pipeline as `system`: authorized, audited and
 * published like any command.
 */
export function createTrafficMonitor(opts: { engine: Engine; publisher?: ControlPublisher; run: RunCommand; log: Logger; intervalMs?: number }): TrafficMonitor {
  const { engine, publisher, log } = opts;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const act = async (cluster: string, text: string, windowMs: number) => {
    // One bot replica acts per window; the others see the breaker change through the store.
    if (!(await publisher!.claim(`${cluster}:${text.split(' ')[1]}`, windowMs))) return;
    log.warn({ cluster, command: text }, 'automatic breaker action');
    await opts.run({ id: `auto-${shortId(12)}`, platform: 'system', user: { id: SYSTEM_USER, displayName: 'system (automatic breaker)' }, text, confirmed: true });
  };

  async function evaluate(): Promise<void> {
    if (!publisher) return;
    const state = await engine.state();
    const now = engine.clock.now().getTime();
    for (const [name, cc] of Object.entries(engine.config.clusters)) {
      const rule = cc.breaker.autoTrip;
      if (!rule || !Object.hasOwn(state.clusters, name)) continue;
      const windowMs = parseDuration(rule.window) ?? 30_000;
      const view = engine.cluster(state, name);
      if (view.breakerView === 'open') continue;
      if (view.breakerView === 'half-open') {
        // Judge the trial traffic only: the whole window must lie after the breaker turned half-open.
        const halfOpenAt = Date.parse(view.breaker.change?.at ?? '') + (parseDuration(view.breakerCooldown) ?? 0);
        if (!(now - halfOpenAt >= windowMs)) continue;
      }
      const t = (await publisher.traffic([name], Math.max(1, Math.round(windowMs / 1000))))[name];
      if (!t || t.errorRate === undefined) continue;
      const needed = view.breakerView === 'half-open' ? Math.max(3, Math.ceil(rule.minRequests * cc.breaker.trickle)) : rule.minRequests;
      if (t.finished < needed) continue;
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
      if (t.errorRate >= rule.errorRate) {
        const reason = `error rate ${pct(t.errorRate)} over ${rule.window} (${t.errors} of ${t.finished} requests failed), threshold ${pct(rule.errorRate)}`;
        await act(name, `breaker trip ${name} --reason "${reason}"`, windowMs);
      } else if (view.breakerView === 'half-open') {
        await act(name, `breaker reset ${name}`, windowMs);
      }
    }
  }

  return {
    async live() {
      if (!publisher) return undefined;
      try {
        return await publisher.traffic(Object.keys((await engine.state()).clusters), LIVE_WINDOW_SECONDS);
      } catch (err) {
        log.debug({ err }, 'live traffic unavailable');
        return undefined;
      }
    },
    async guards() {
      if (!publisher) return undefined;
      try {
        return await publisher.guards(Object.keys((await engine.state()).clusters));
      } catch (err) {
        log.debug({ err }, 'guard health unavailable');
        return undefined;
      }
    },
    tick: async () => {
      try {
        await evaluate();
      } catch (err) {
        log.warn({ err }, 'automatic breaker evaluation failed; will try again');
      }
    },
    start() {
      if (!publisher || timer) return;
      timer = setInterval(() => {
        running ??= this.tick().finally(() => (running = undefined));
      }, opts.intervalMs ?? 1_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
