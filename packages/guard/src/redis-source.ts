import type { Redis } from 'ioredis';
import type { ControlKeys } from './keys.js';
import { parseSnapshot } from './snapshot.js';
import type { SnapshotSource, SourceSink } from './snapshot-source.js';

/**
 * Snapshots from Redis: the stored snapshot on start and after every reconnect, then each announcement on
 * the pub/sub channel. An announcement says which version it follows; when that is not the version held
 * (a message was missed), the guard re-reads the stored snapshot instead of trusting the gap.
 */
export function redisSource(opts: { redis: Redis; subscriber: Redis; keys: ControlKeys; onError?: (err: unknown) => void }): SnapshotSource {
  const { redis, subscriber, keys } = opts;
  let sink: SourceSink | undefined;
  let stopped = false;

  async function resync(): Promise<boolean> {
    if (!sink) return false;
    try {
      const doc = await redis.hget(keys.snapshot, 'doc');
      const snap = doc ? parseSnapshot(doc) : undefined;
      if (snap) sink.offer(snap, sink.current() ? 'resync' : 'initial');
      return true;
    } catch (err) {
      opts.onError?.(err);
      return false;
    }
  }

  const onMessage = (channel: string, message: string) => {
    if (channel !== keys.channel || !sink) return;
    let parsed: { prev?: unknown; snapshot?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    const snap = parseSnapshot(parsed.snapshot);
    const held = sink.current();
    if (!snap || (held && snap.version <= held.version)) return;
    if (held && parsed.prev !== held.version) {
      // A gap: something was missed while this guard was away. The stored snapshot is authoritative.
      void resync().then((ok) => ok || sink?.offer(snap, 'change'));
      return;
    }
    sink.offer(snap, 'change');
  };
  let retry: NodeJS.Timeout | undefined;
  const onReady = () => {
    // ioredis re-subscribes by itself after a reconnect; whatever was announced meanwhile is read back here.
    // The command connection may come back a little later than the subscriber: try until the read works.
    clearTimeout(retry);
    // Subscribing again (harmless when already subscribed) is acknowledged only after ioredis's own
    // re-subscription on this connection: reading the snapshot before that could miss a change announced
    // in between.
    void subscriber
      .subscribe(keys.channel)
      .then(() => resync(), () => false)
      .then((ok) => {
        if (stopped) return;
        sink?.connected(ok && subscriber.status === 'ready');
        if (!ok) retry = setTimeout(onReady, 250).unref();
      });
  };
  const onDown = (err?: unknown) => {
    if (!stopped) sink?.connected(false, err);
  };
  const onClose = () => onDown();

  return {
    kind: 'redis',
    start(s) {
      sink = s;
      subscriber.on('message', onMessage);
      subscriber.on('ready', onReady);
      subscriber.on('close', onClose);
      subscriber.on('error', onDown);
      onReady();
    },
    resync,
    async stop() {
      stopped = true;
      clearTimeout(retry);
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      subscriber.off('close', onClose);
      subscriber.off('error', onDown);
    },
  };
}
