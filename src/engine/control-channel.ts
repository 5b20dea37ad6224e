import type { ControlFeed, ControlSnapshot } from '@infrabot/guard';
import type { Logger } from 'pino';
import type { ControlPublisher } from './control-publisher.js';
import { toControlSnapshot } from './control-snapshot.js';
import type { ControlState } from './control-state.js';
import type { Engine } from './engine.js';

/** How often the published version is compared with the store (repairs missed publications). */
const RECONCILE_MS = 2_000;
const RETRY_MS = 200;

export interface ControlChannelStatus {
  /** 'not configured' without Redis: guards then follow the SSE stream and count rate limits per process. */
  redis: 'not configured' | 'connected' | 'unreachable';
  target?: string;
  /** Version of the store's state, and the newest one Redis holds (when reachable). */
  storeVersion: number;
  publishedVersion?: number;
  lastError?: string;
}

/**
 * Carries committed control state to services. Publication happens after the commit; the store's state
 * sequence is the outbox: whenever the version Redis holds is behind the store's (a crash between commit
 * and publish, Redis down, another replica's commit), the current state is published again — on start and
 * every two seconds. The same snapshots feed the SSE stream and in-process guards (ControlFeed).
 */
export interface ControlChannel extends ControlFeed {
  /** Post-commit hook: `state` is what the commit stored (its seq is the new version). */
  committed(state: ControlState): void;
  /** Publishes the store's state if Redis is behind it; resolves when done (never rejects). */
  reconcile(): Promise<void>;
  status(): Promise<ControlChannelStatus>;
  readonly publisher?: ControlPublisher;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createControlChannel(opts: { engine: Engine; publisher?: ControlPublisher; log: Logger }): ControlChannel {
  const { engine, publisher, log } = opts;
  let latest: ControlSnapshot | undefined;
  /** Newest version known to be in Redis (-1 = unknown/none). */
  let published = -1;
  let lastError: string | undefined;
  let pumping: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let retryMs = RETRY_MS;
  const listeners = new Set<(s: ControlSnapshot) => void>();

  function offer(state: ControlState): void {
    if (latest && state.seq <= latest.version) return;
    latest = toControlSnapshot(state, engine.config, engine.clock.now());
    for (const l of listeners) {
      try {
        l(latest);
      } catch (err) {
        log.warn({ err }, 'control feed listener failed');
      }
    }
    void pump();
  }

  /** Publishes the newest snapshot until Redis holds it; one publication at a time, in version order. */
  function pump(): Promise<void> {
    if (!publisher) return Promise.resolve();
    // Cleared in a later microtask, never before it is assigned (a pump with nothing to do ends synchronously).
    pumping ??= publishPending(publisher).finally(() => {
      pumping = undefined;
      // A change that arrived while this round was finishing found it still running: publish it now.
      if (!stopped && !lastError && latest && latest.version > published) void pump();
    });
    return pumping;
  }

  async function publishPending(p: ControlPublisher): Promise<void> {
    try {
      while (latest && latest.version > published) {
        const snap = latest;
        const stored = await p.publish(snap, published);
        // Not stored: Redis already holds this version or a newer one (another replica was faster).
        published = stored ? snap.version : Math.max(snap.version, await p.publishedVersion());
        if (lastError) log.info({ version: published }, 'control state published again after a failure');
        lastError = undefined;
        retryMs = RETRY_MS;
      }
    } catch (err) {
      const problem = err instanceof Error ? err.message : String(err);
      if (problem !== lastError) log.warn({ err: problem }, 'publishing control state failed; will retry');
      lastError = problem;
      // Soon, not only at the next reconcile: a blip should not hold a kill-switch back for seconds.
      if (!stopped) setTimeout(() => void pump(), retryMs).unref();
      retryMs = Math.min(RECONCILE_MS, retryMs * 2);
    }
  }

  async function reconcile(): Promise<void> {
    try {
      offer(await engine.state());
      if (!publisher || !latest) return;
      const held = await publisher.publishedVersion();
      if (held > latest.version && published !== held) {
        // Redis holds a newer version than the store ever had: the database was replaced, or two installations
        // share one prefix. Guards would ignore the older state, so say so loudly (docs/guard.md, "Failure modes").
        log.error({ held, store: latest.version, key: 'control:snapshot' }, 'redis holds a newer control version than the store; not overwriting it — see docs/guard.md');
        published = held;
      }
      if (held < latest.version) {
        if (published >= latest.version) log.warn({ held, store: latest.version }, 'redis lost the control snapshot; publishing it again');
        published = held;
      }
      await pump();
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
  }

  return {
    ...(publisher ? { publisher } : {}),
    current: () => latest,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    committed: offer,
    reconcile,
    async status() {
      const storeVersion = latest?.version ?? (await engine.state()).seq;
      if (!publisher) return { redis: 'not configured', storeVersion };
      try {
        const v = await publisher.publishedVersion();
        return { redis: 'connected', target: publisher.target, storeVersion, publishedVersion: v, ...(lastError ? { lastError } : {}) };
      } catch (err) {
        return { redis: 'unreachable', target: publisher.target, storeVersion, lastError: err instanceof Error ? err.message : String(err) };
      }
    },
    async start() {
      await reconcile();
      timer = setInterval(() => void reconcile(), RECONCILE_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pumping;
      await publisher?.close();
    },
  };
}
