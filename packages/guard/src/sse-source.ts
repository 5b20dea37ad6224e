import { parseSnapshot } from './snapshot.js';
import type { SnapshotSource, SourceSink } from './snapshot-source.js';

/** The bot sends a comment every 15 s: silence for longer means a dead connection nobody closed. */
const IDLE_TIMEOUT_MS = 45_000;
/** Longest wait for the stream's response headers. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface SseSourceOptions {
  /** The bot's stream, e.g. http://127.0.0.1:8080/api/control/stream. */
  url: string;
  /** Sent with every request, e.g. { authorization: 'Bearer …' }. */
  headers?: Record<string, string>;
  /** Longest wait between reconnects (exponential with jitter from 100 ms). */
  maxBackoffMs?: number;
}

/** Splits a server-sent event stream into events; `onEvent` gets each complete one. */
function createEventParser(onEvent: (event: string, data: string) => void) {
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  return (text: string) => {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length) onEvent(event, data.join('\n'));
        event = 'message';
        data = [];
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
  };
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
    const ac = (abort = new AbortController());
    let timer: NodeJS.Timeout | undefined;
    const expectWithin = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => ac.abort(), ms).unref();
    };
    expectWithin(CONNECT_TIMEOUT_MS);
    try {
      const held = s.current();
      const res = await fetch(opts.url, {
        headers: { accept: 'text/event-stream', ...(held ? { 'last-event-id': String(held.version) } : {}), ...opts.headers },
        signal: ac.signal,
      });
      if (!res.ok || !res.body) throw new Error(`control stream answered HTTP ${res.status}`);
      s.connected(true);
      failures = 0;
      const decoder = new TextDecoder();
      const parse = createEventParser((event, data) => {
        if (event !== 'snapshot' && event !== 'change') return;
        const snap = parseSnapshot(data);
        if (snap) s.offer(snap, s.current() ? 'change' : 'initial');
      });
      expectWithin(IDLE_TIMEOUT_MS);
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        expectWithin(IDLE_TIMEOUT_MS);
        parse(decoder.decode(chunk, { stream: true }));
      }
      throw new Error('control stream ended');
    } finally {
      clearTimeout(timer);
    }
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
