import { parseSnapshot } from './snapshot.js';
import type { SnapshotSource, SourceSink } from './snapshot-source.js';

const IDLE_TIMEOUT_MS = 45_000;

export interface SseSourceOptions {
  /** The bot's stream, e.g. http://127.0.0.1:8080/api/control/stream. */
  url: string;
  /** Sent with every request, e.g. { authorization: 'Bearer …' }. */
  headers?: Record<string, string>;
  /** Longest wait between reconnects (exponential with jitter from 100 ms). */
  maxBackoffMs?: number;
}

/**
 * Snapshots from the bot's server-sent events (`GET /api/control/stream`), for guards without Redis. A
 * reconnect sends the version held as Last-Event-ID, so the bot answers with what changed since, or nothing.
 */
export function sseSource(opts: SseSourceOptions): SnapshotSource {
  let sink: SourceSink | undefined;
  let abort: AbortController | undefined;
  let stopped = false;
  let failures = 0;
  const maxBackoff = opts.maxBackoffMs ?? 5_000;

  async function connectOnce(s: SourceSink): Promise<void> {
    abort = new AbortController();
    const held = s.current();
    const res = await fetch(opts.url, {
      headers: { accept: 'text/event-stream', ...(held ? { 'last-event-id': String(held.version) } : {}), ...opts.headers },
      signal: abort.signal,
    });
    if (!res.ok || !res.body) throw new Error(`control stream answered HTTP ${res.status}`);
    s.connected(true);
    failures = 0;
    const decoder = new TextDecoder();
    let buffer = '';
    let event = 'message';
    let data: string[] = [];
    // The bot sends a comment every 15 s; silence for longer means a dead connection nobody closed.
    let idle: NodeJS.Timeout | undefined;
    const watch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort?.abort(), IDLE_TIMEOUT_MS).unref();
    };
    watch();
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        watch();
        buffer += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (data.length && (event === 'snapshot' || event === 'change')) {
            const snap = parseSnapshot(data.join('\n'));
            if (snap) s.offer(snap, event === 'snapshot' && !s.current() ? 'initial' : 'change');
          }
          event = 'message';
          data = [];
        } else if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      }
    } finally {
      clearTimeout(idle);
    }
    throw new Error('control stream ended');
  }

  async function loop(s: SourceSink): Promise<void> {
    while (!stopped) {
      try {
        await connectOnce(s);
      } catch (err) {
        if (stopped) return;
        s.connected(false, err);
        failures++;
        const wait = Math.min(maxBackoff, 100 * 2 ** Math.min(failures, 10));
        await new Promise((r) => setTimeout(r, wait / 2 + Math.random() * (wait / 2)).unref());
      }
    }
  }

  return {
    kind: 'sse',
    start(s) {
      sink = s;
      void loop(s);
    },
    // The stream itself resends what changed on every reconnect; there is nothing else to read.
    resync: async () => Boolean(sink),
    async stop() {
      stopped = true;
      abort?.abort();
    },
  };
}
