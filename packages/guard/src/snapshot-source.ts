import type { ControlSnapshot } from './snapshot.js';

/** What a source tells the guard. `offer` keeps a snapshot only if it is newer than the one held. */
export interface SourceSink {
  current(): ControlSnapshot | undefined;
  offer(snapshot: ControlSnapshot, how: 'initial' | 'change' | 'resync'): void;
  /** Connected and up to date (false: keep the last snapshot and mark the guard stale). */
  connected(ok: boolean, error?: unknown): void;
}

/** Where a guard gets snapshots from: Redis pub/sub, the bot's SSE stream, or an in-process feed. */
export interface SnapshotSource {
  readonly kind: 'redis' | 'sse' | 'feed';
  start(sink: SourceSink): void;
  /** Re-reads the authoritative snapshot (periodic resync); resolves false when it could not. */
  resync(): Promise<boolean>;
  stop(): Promise<void>;
}

/** An in-process feed, for services running inside the bot's own process (the simulated fleet). */
export interface ControlFeed {
  current(): ControlSnapshot | undefined;
  subscribe(listener: (snapshot: ControlSnapshot) => void): () => void;
}

export function feedSource(feed: ControlFeed): SnapshotSource {
  let unsubscribe: (() => void) | undefined;
  let sink: SourceSink | undefined;
  return {
    kind: 'feed',
    start(s) {
      sink = s;
      unsubscribe = feed.subscribe((snap) => s.offer(snap, 'change'));
      const first = feed.current();
      if (first) s.offer(first, 'initial');
      s.connected(true);
    },
    async resync() {
      const snap = feed.current();
      if (snap && sink) sink.offer(snap, 'resync');
      return true;
    },
    async stop() {
      unsubscribe?.();
    },
  };
}
