/**
 * A local fake of the Slack Web API, response_url endpoints and the Socket Mode WebSocket, speaking the
 * wire format (form-encoded POSTs with Bearer tokens, JSON answers, 429 + Retry-After) so the real Bolt
 * App and WebClient run unmodified against it. Records every call for assertions.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RecordedCall {
  method: string;
  /** Form fields; JSON-valued fields (blocks, files, …) already parsed. */
  params: Record<string, unknown>;
  token: string | undefined;
}

export interface ResponseUrlPost {
  /** The id in /response/<id>, one per slash command or click. */
  id: string;
  body: Record<string, unknown>;
}

export type Failure = { status: 429; retryAfterSeconds: number } | { status: 500 | 502 | 503 } | { status: 200; error: string };

export interface FakeUserGroup {
  id: string;
  handle: string;
  users: string[];
}

/** A message the fake holds, as Slack would return it from conversations.history. */
export interface FakeSlackMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  deleted?: boolean;
  edits: number;
}

export const FAKE_BOT_USER_ID = 'UBOT';
export const FAKE_BOT_ID = 'BBOT';

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly uploads: { fileId: string; body: string; bytes: Buffer }[] = [];
  /** Messages the app sent over the Socket Mode connection (acks). */
  readonly socketMessages: Record<string, unknown>[] = [];
  userGroups: FakeUserGroup[] = [];
  /** Every message posted, in order (deleted ones stay, marked). */
  readonly messages: FakeSlackMessage[] = [];
  /** Channels chat.postMessage answers `channel_not_found` for. */
  readonly missingChannels = new Set<string>();
  /** Delayed answers that found the client gone (it aborted the call). */
  hungUp = 0;
  private readonly delays = new Map<string, number[]>();
  private readonly failures = new Map<string, Failure[]>();
  private server!: Server;
  private wss!: WebSocketServer;
  private sockets = new Set<WebSocket>();
  private seq = 0;
  private waiters: (() => void)[] = [];
  origin = '';

  static async start(): Promise<FakeSlack> {
    const fake = new FakeSlack();
    fake.server = createServer((req, res) => void fake.route(req, res));
    fake.wss = new WebSocketServer({ noServer: true });
    fake.server.on('upgrade', (req, socket, head) => {
      fake.wss.handleUpgrade(req, socket, head, (ws) => fake.onSocket(ws));
    });
    fake.server.listen(0, '127.0.0.1');
    await once(fake.server, 'listening');
    fake.origin = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** Web API base URL, as SLACK_API_URL. */
  get apiUrl() {
    return `${this.origin}/api/`;
  }

  responseUrl(id: string) {
    return `${this.origin}/response/${id}`;
  }

  callsTo(method: string) {
    return this.calls.filter((c) => c.method === method);
  }

  responsesTo(id: string) {
    return this.responses.filter((r) => r.id === id).map((r) => r.body);
  }

  /** The next `times` calls to `method` fail this way (in order). */
  failNext(method: string, failure: Failure, times = 1) {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(failure);
    this.failures.set(method, list);
  }

  /**
   * The next `times` calls to `method` do their work at once but answer only after `ms`: a call that succeeds
   * after its caller gave up on it.
   */
  delayNext(method: string, ms: number, times = 1) {
    const list = this.delays.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(ms);
    this.delays.set(method, list);
  }

  /** Top-level messages of a channel that were not deleted. */
  channelMessages(channel: string) {
    return this.messages.filter((m) => m.channel === channel && !m.thread_ts && !m.deleted);
  }

  /** Deletes a message, as a person in the channel would. */
  deleteMessage(ts: string) {
    const m = this.messages.find((x) => x.ts === ts);
    if (!m) throw new Error(`fake Slack has no message ${ts}`);
    m.deleted = true;
  }

  /** Resolves when the predicate holds, checked after every request the fake receives. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake Slack: timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  /** Sends a Socket Mode envelope to every connected app. */
  sendEnvelope(envelope: Record<string, unknown>) {
    for (const ws of this.sockets) ws.send(JSON.stringify(envelope));
  }

  get socketCount() {
    return this.sockets.size;
  }

  async close() {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    this.server.close();
  }

  private notify() {
    const waiting = this.waiters.splice(0);
    for (const w of waiting) w();
  }

  private onSocket(ws: WebSocket) {
    this.sockets.add(ws);
    ws.on('message', (data) => {
      this.socketMessages.push(JSON.parse(String(data)) as Record<string, unknown>);
      this.notify();
    });
    ws.on('close', () => this.sockets.delete(ws));
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake-slack' }, connection_info: { app_id: 'AFAKE' } }));
    this.notify();
  }

  private async route(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const raw = bytes.toString('utf8');
    const path = new URL(req.url ?? '/', this.origin).pathname;
    try {
      if (path.startsWith('/api/')) this.api(path.slice(5), req, raw, res);
      else if (path.startsWith('/response/')) {
        this.responses.push({ id: path.slice('/response/'.length), body: JSON.parse(raw) as Record<string, unknown> });
        json(res, 200, { ok: true });
      } else if (path.startsWith('/upload/')) {
        this.uploads.push({ fileId: path.slice('/upload/'.length), body: raw, bytes });
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${raw.length}`);
      } else json(res, 404, { ok: false, error: 'not_found' });
    } finally {
      this.notify();
    }
  }

  private api(method: string, req: IncomingMessage, raw: string, res: ServerResponse) {
    const delay = this.delays.get(method)?.shift();
    if (delay !== undefined) res = lateResponse(res, delay, () => (this.hungUp++, this.notify()));
    const params = parseParams(req.headers['content-type'] ?? '', raw);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof params.token === 'string' ? params.token : undefined;
    this.calls.push({ method, params, token });
    const failure = this.failures.get(method)?.shift();
    if (failure) {
      if (failure.status === 429) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(failure.retryAfterSeconds) });
        res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      } else json(res, failure.status, { ok: false, error: 'error' in failure ? failure.error : 'fatal_error' });
      return;
    }
    if (!token) return json(res, 200, { ok: false, error: 'not_authed' });
    // Like Slack's: the time of posting, unique per message.
    const ts = () => `${Math.floor(Date.now() / 1000)}.${String(++this.seq).padStart(6, '0')}`;
    switch (method) {
      case 'auth.test':
        return json(res, 200, { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'infrabot', team_id: 'TFAKE', user_id: FAKE_BOT_USER_ID, bot_id: FAKE_BOT_ID });
      case 'apps.connections.open':
        return json(res, 200, { ok: true, url: `${this.origin.replace('http', 'ws')}/socket` });
      case 'chat.postMessage': {
        const channel = String(params.channel);
        if (this.missingChannels.has(channel)) return json(res, 200, { ok: false, error: 'channel_not_found' });
        const m: FakeSlackMessage = { channel, ts: ts(), text: String(params.text ?? ''), blocks: params.blocks, edits: 0 };
        if (typeof params.thread_ts === 'string') m.thread_ts = params.thread_ts;
        if (params.metadata) m.metadata = params.metadata as FakeSlackMessage['metadata'];
        this.messages.push(m);
        return json(res, 200, { ok: true, channel, ts: m.ts, message: { text: params.text } });
      }
      case 'chat.update': {
        const m = this.messages.find((x) => x.channel === params.channel && x.ts === params.ts && !x.deleted);
        if (!m) return json(res, 200, { ok: false, error: 'message_not_found' });
        m.text = String(params.text ?? '');
        m.blocks = params.blocks;
        m.edits++;
        return json(res, 200, { ok: true, channel: params.channel, ts: params.ts, text: params.text });
      }
      case 'conversations.history':
      case 'conversations.replies': {
        const oldest = Number(params.oldest ?? 0);
        const inView = (m: FakeSlackMessage) =>
          m.channel === params.channel && !m.deleted && Number(m.ts) >= oldest &&
          (method === 'conversations.history' ? !m.thread_ts : m.ts === params.ts || m.thread_ts === params.ts);
        const found = this.messages.filter(inView).reverse().slice(0, Number(params.limit ?? 100));
        // Like Slack: metadata only when asked for with include_all_metadata.
        const shown = found.map((m) => ({ type: 'message', ts: m.ts, text: m.text, bot_id: FAKE_BOT_ID, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}), ...(params.include_all_metadata === true && m.metadata ? { metadata: m.metadata } : {}) }));
        return json(res, 200, { ok: true, messages: method === 'conversations.replies' ? shown.reverse() : shown, has_more: false });
      }
      case 'chat.postEphemeral':
        return json(res, 200, { ok: true, message_ts: ts() });
      case 'views.open':
        return json(res, 200, { ok: true, view: { id: `V${++this.seq}` } });
      case 'conversations.open':
        return json(res, 200, { ok: true, channel: { id: `D${String(params.users)}` } });
      case 'usergroups.list':
        return json(res, 200, {
          ok: true,
          usergroups: this.userGroups.map((g) => ({ id: g.id, handle: g.handle, ...(params.include_users ? { users: g.users } : {}) })),
        });
      case 'files.getUploadURLExternal': {
        const id = `F${++this.seq}`;
        return json(res, 200, { ok: true, upload_url: `${this.origin}/upload/${id}`, file_id: id });
      }
      case 'files.completeUploadExternal': {
        const files = (params.files as { id: string; title?: string }[] | undefined) ?? [];
        return json(res, 200, { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? '' })) });
      }
      default:
        return json(res, 200, { ok: false, error: 'unknown_method' });
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/** A response whose head and body are written `ms` later (dropped if the client hung up meanwhile). */
function lateResponse(res: ServerResponse, ms: number, onHungUp: () => void): ServerResponse {
  const late = {
    writeHead: (...args: Parameters<ServerResponse['writeHead']>) => ({
      end: (body?: string) => {
        setTimeout(() => {
          if (res.destroyed) onHungUp();
          else res.writeHead(...args).end(body);
        }, ms);
      },
    }),
  };
  return late as unknown as ServerResponse;
}

/** The WebClient sends form fields, with structured values (blocks, files) as JSON strings. */
function parseParams(contentType: string, raw: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = /^[[{]/.test(v) ? tryJson(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  return out;
}

function tryJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
