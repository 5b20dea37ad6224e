/**
 * A local fake of Discord's wire: REST on node:http (`/api/v10/...`) and a gateway WebSocket on the same port.
 * It speaks just enough of the protocol for discord.js, @discordjs/rest and @discordjs/core: gateway handshake
 * (HELLO, IDENTIFY → READY, heartbeat ACKs), INTERACTION_CREATE dispatch, interaction callbacks (204, no JSON
 * content type), webhook follow-ups and `@original` edits, channel messages, threads, command registration, and
 * 429 answers with `Retry-After` header and body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export const BOT_TOKEN = 'fake-bot-token.Secret123.DoNotLog';
export const APP_ID = '1100000000000000001';
export const BOT_USER_ID = '1100000000000000002';
export const GUILD_ID = '1100000000000000003';
export const CHANNEL_ID = '1100000000000000004';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization?: string;
  body: unknown;
  files: { name: string; content: string }[];
  status: number;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  content?: string;
  embeds?: { title?: string; description?: string; color?: number; fields?: { name: string; value: string }[]; footer?: { text: string } }[];
  components?: { type: number; components: { type: number; style: number; label: string; custom_id: string }[] }[];
  flags?: number;
  /** Interaction token the message belongs to, for webhook messages. */
  interactionToken?: string;
  deleted?: boolean;
  edits: number;
  files: string[];
  /** The nonce it was created with, if any. */
  nonce?: string;
}

export interface InteractionCallback {
  interactionId: string;
  token: string;
  body: { type: number; data?: Record<string, unknown> };
}

interface RateLimitRule {
  match: (method: string, path: string) => boolean;
  remaining: number;
  retryAfterSeconds: number;
  global: boolean;
}

export interface FakeDiscord {
  apiUrl: string;
  gatewayUrl: string;
  requests: RecordedRequest[];
  callbacks: InteractionCallback[];
  messages: Map<string, FakeMessage>;
  threads: { id: string; parentId: string; messageId: string; name: string; autoArchive: number }[];
  commands: { global: Record<string, unknown>[]; guild: Map<string, Record<string, unknown>[]> };
  /** IDENTIFY payloads received, in order. */
  identifies: { token: string; intents: number }[];
  heartbeatsAcked: number;
  /** The next `count` requests matching `match` do their work at once but are answered only after `ms`. */
  delay(match: (method: string, path: string) => boolean, count: number, ms: number): void;
  /** Answers the next `count` requests matching `match` with 429. */
  rateLimit(match: (method: string, path: string) => boolean, count: number, retryAfterSeconds: number, opts?: { global?: boolean }): void;
  /** Sends INTERACTION_CREATE to every connected gateway client; registers it so callbacks can find it. */
  dispatchInteraction(interaction: Record<string, unknown>): void;
  /** Registers an interaction delivered some other way (HTTP endpoint tests) so follow-ups land in the right channel. */
  rememberInteraction(interaction: Record<string, unknown>): void;
  /** Resolves when `predicate` holds, polling the recorded state. */
  waitFor<T>(predicate: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  /** Messages created for one interaction token, in order (original first). */
  messagesFor(token: string): FakeMessage[];
  close(): Promise<void>;
}

let snowflakeCounter = 1_200_000_000_000_000_000n;
export const nextSnowflake = () => String(snowflakeCounter++);

export async function startFakeDiscord(opts: { heartbeatIntervalMs?: number } = {}): Promise<FakeDiscord> {
  const requests: RecordedRequest[] = [];
  const callbacks: InteractionCallback[] = [];
  const messages = new Map<string, FakeMessage>();
  const threads: FakeDiscord['threads'] = [];
  const commands: FakeDiscord['commands'] = { global: [], guild: new Map() };
  const identifies: FakeDiscord['identifies'] = [];
  const rules: RateLimitRule[] = [];
  const delays: { match: (method: string, path: string) => boolean; remaining: number; ms: number }[] = [];
  const interactions = new Map<string, Record<string, unknown>>();
  const originals = new Map<string, string>(); // interaction token → message id
  const sockets = new Set<WebSocket>();
  let heartbeatsAcked = 0;
  let seq = 0;

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: String(err), code: 0 }));
    });
  });
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const noContent = (res: ServerResponse) => res.writeHead(204).end();

  async function readBody(req: IncomingMessage): Promise<{ body: unknown; files: { name: string; content: string }[] }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
      const files: { name: string; content: string }[] = [];
      let body: unknown = {};
      for (const [key, value] of form.entries()) {
        if (key === 'payload_json') body = JSON.parse(String(value));
        else if (typeof value !== 'string') files.push({ name: value.name, content: await value.text() });
      }
      return { body, files };
    }
    return { body: raw.length ? JSON.parse(raw.toString('utf8')) : undefined, files: [] };
  }

  function createMessage(channelId: string, data: Record<string, unknown> | undefined, files: string[], token?: string): FakeMessage {
    const m: FakeMessage = {
      id: nextSnowflake(),
      channel_id: channelId,
      ...(data?.content !== undefined ? { content: data.content as string } : {}),
      embeds: (data?.embeds as FakeMessage['embeds']) ?? [],
      components: (data?.components as FakeMessage['components']) ?? [],
      flags: (data?.flags as number | undefined) ?? 0,
      ...(token ? { interactionToken: token } : {}),
      edits: 0,
      files,
    };
    messages.set(m.id, m);
    return m;
  }

  function editMessage(m: FakeMessage, data: Record<string, unknown>, files: string[]) {
    if (data.content !== undefined) m.content = data.content as string;
    if (data.embeds !== undefined) m.embeds = data.embeds as FakeMessage['embeds'];
    if (data.components !== undefined) m.components = data.components as FakeMessage['components'];
    if (files.length) m.files = files;
    m.edits++;
  }

  const apiMessage = (m: FakeMessage) => ({
    id: m.id,
    channel_id: m.channel_id,
    content: m.content ?? '',
    embeds: m.embeds,
    components: m.components,
    flags: m.flags,
    author: { id: BOT_USER_ID, username: 'infrabot', discriminator: '0', global_name: null, avatar: null, bot: true },
    attachments: [],
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    type: 0,
  });

  const channelOf = (token: string) => {
    for (const i of interactions.values()) if (i.token === token) return String(i.channel_id ?? CHANNEL_ID);
    return CHANNEL_ID;
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');
    const { body, files } = await readBody(req);
    const record: RecordedRequest = {
      method,
      path,
      query: url.searchParams,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      body,
      files,
      status: 0,
    };
    requests.push(record);
    const fileNames = files.map((f) => f.name);
    const delayed = delays.find((d) => d.remaining > 0 && d.match(method, path));
    if (delayed) {
      delayed.remaining--;
      const real = res;
      res = {
        writeHead: (...args: Parameters<ServerResponse['writeHead']>) => ({
          end: (b?: string) => setTimeout(() => !real.destroyed && real.writeHead(...args).end(b), delayed.ms),
        }),
      } as unknown as ServerResponse;
    }

    const rule = rules.find((r) => r.remaining > 0 && r.match(method, path));
    if (rule) {
      rule.remaining--;
      record.status = 429;
      return json(
        res,
        429,
        { message: 'You are being rate limited.', retry_after: rule.retryAfterSeconds, global: rule.global },
        {
          'retry-after': String(rule.retryAfterSeconds),
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': String(rule.retryAfterSeconds),
          'x-ratelimit-bucket': 'fakebucket',
          'x-ratelimit-scope': rule.global ? 'global' : 'user',
          ...(rule.global ? { 'x-ratelimit-global': 'true' } : {}),
        },
      );
    }
    record.status = 200;
    const botAuth = req.headers.authorization === `Bot ${BOT_TOKEN}`;
    const needsBot = () => {
      if (botAuth) return false;
      record.status = 401;
      json(res, 401, { message: '401: Unauthorized', code: 0 });
      return true;
    };

    let m: RegExpMatchArray | null;
    if (method === 'GET' && path === '/gateway/bot') {
      if (needsBot()) return;
      return json(res, 200, {
        url: `ws://127.0.0.1:${port}`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      });
    }
    if (method === 'GET' && path === '/applications/@me') {
      if (needsBot()) return;
      return json(res, 200, { id: APP_ID, name: 'infrabot', flags: 0, bot_public: false });
    }
    if ((m = path.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/)) && method === 'POST') {
      const [, interactionId, token] = m as unknown as [string, string, string];
      const cb = { interactionId, token, body: body as InteractionCallback['body'] };
      callbacks.push(cb);
      const data = cb.body.data;
      if (cb.body.type === 4 || cb.body.type === 5) {
        originals.set(token, createMessage(channelOf(token), data, fileNames, token).id);
      } else if (cb.body.type === 7) {
        const inter = interactions.get(interactionId);
        const msgId = (inter?.message as { id?: string } | undefined)?.id;
        const target = msgId ? messages.get(msgId) : undefined;
        if (target && data) editMessage(target, data, fileNames);
        if (msgId) originals.set(token, msgId);
      } else if (cb.body.type === 6) {
        const msgId = (interactions.get(interactionId)?.message as { id?: string } | undefined)?.id;
        if (msgId) originals.set(token, msgId);
      }
      return noContent(res); // Discord answers 204 with no JSON content type
    }
    if ((m = path.match(/^\/webhooks\/(\d+)\/([^/]+)$/)) && method === 'POST') {
      const token = m[2]!;
      const msg = createMessage(channelOf(token), body as Record<string, unknown>, fileNames, token);
      return json(res, 200, apiMessage(msg));
    }
    if ((m = path.match(/^\/webhooks\/(\d+)\/([^/]+)\/messages\/([^/]+)$/))) {
      const token = m[2]!;
      const id = m[3] === '@original' ? originals.get(token) : m[3]!;
      const msg = id ? messages.get(id) : undefined;
      if (!msg || msg.deleted) return json(res, 404, { message: 'Unknown Message', code: 10008 });
      if (method === 'PATCH') {
        editMessage(msg, body as Record<string, unknown>, fileNames);
        return json(res, 200, apiMessage(msg));
      }
      if (method === 'DELETE') {
        msg.deleted = true;
        return noContent(res);
      }
      if (method === 'GET') return json(res, 200, apiMessage(msg));
    }
    if ((m = path.match(/^\/channels\/(\d+)\/messages$/)) && method === 'POST') {
      if (needsBot()) return;
      const b = body as Record<string, unknown>;
      const nonce = b.nonce === undefined ? undefined : String(b.nonce);
      // enforce_nonce: a message this author created with the same nonce is returned instead of a new one.
      const same = nonce && b.enforce_nonce === true ? [...messages.values()].find((x) => x.channel_id === m![1] && x.nonce === nonce) : undefined;
      if (same) return json(res, 200, apiMessage(same));
      const msg = createMessage(m[1]!, b, fileNames);
      if (nonce) msg.nonce = nonce;
      return json(res, 200, apiMessage(msg));
    }
    if ((m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)$/)) && method === 'PATCH') {
      if (needsBot()) return;
      const msg = messages.get(m[2]!);
      if (!msg || msg.deleted || msg.channel_id !== m[1]) return json(res, 404, { message: 'Unknown Message', code: 10008 });
      editMessage(msg, body as Record<string, unknown>, fileNames);
      return json(res, 200, apiMessage(msg));
    }
    if ((m = path.match(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/)) && method === 'POST') {
      if (needsBot()) return;
      const msg = messages.get(m[2]!);
      if (!msg) return json(res, 404, { message: 'Unknown Message', code: 10008 });
      const b = body as { name: string; auto_archive_duration: number };
      if (threads.some((t) => t.messageId === msg.id)) return json(res, 400, { message: 'A thread has already been created for this message', code: 160004 });
      // A thread started from a message takes the message's id.
      threads.push({ id: msg.id, parentId: m[1]!, messageId: msg.id, name: b.name, autoArchive: b.auto_archive_duration });
      return json(res, 201, { id: msg.id, type: 11, parent_id: m[1], name: b.name, guild_id: GUILD_ID });
    }
    if ((m = path.match(/^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/))) {
      if (needsBot()) return;
      const guild = m[2];
      if (method === 'GET') return json(res, 200, guild ? (commands.guild.get(guild) ?? []) : commands.global);
      if (method === 'PUT') {
        // Discord returns the stored commands with ids, version and defaults filled in.
        const stored = (body as Record<string, unknown>[]).map((c) => ({
          id: nextSnowflake(),
          application_id: m![1],
          version: nextSnowflake(),
          default_member_permissions: null,
          type: 1,
          nsfw: false,
          ...(guild ? { guild_id: guild } : {}),
          ...c,
        }));
        if (guild) commands.guild.set(guild, stored);
        else commands.global = stored;
        return json(res, 200, stored);
      }
    }
    record.status = 404;
    return json(res, 404, { message: `fake Discord has no route ${method} ${path}`, code: 0 });
  }

  const send = (ws: WebSocket, payload: Record<string, unknown>) => ws.send(JSON.stringify(payload));
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    send(ws, { op: 10, d: { heartbeat_interval: opts.heartbeatIntervalMs ?? 41_250 }, s: null, t: null });
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> };
      if (msg.op === 1) {
        heartbeatsAcked++;
        send(ws, { op: 11, d: null, s: null, t: null });
      } else if (msg.op === 2) {
        identifies.push({ token: String(msg.d.token), intents: Number(msg.d.intents) });
        if (msg.d.token !== BOT_TOKEN) return ws.close(4004, 'Authentication failed.');
        send(ws, {
          op: 0,
          t: 'READY',
          s: ++seq,
          d: {
            v: 10,
            user: { id: BOT_USER_ID, username: 'infrabot', discriminator: '0', global_name: null, avatar: null, bot: true, flags: 0 },
            guilds: [],
            session_id: 'fake-session',
            resume_gateway_url: `ws://127.0.0.1:${port}`,
            shard: [0, 1],
            application: { id: APP_ID, flags: 0 },
          },
        });
      }
    });
  });

  const fake: FakeDiscord = {
    apiUrl: `${base}/api`,
    gatewayUrl: `ws://127.0.0.1:${port}`,
    requests,
    callbacks,
    messages,
    threads,
    commands,
    identifies,
    get heartbeatsAcked() {
      return heartbeatsAcked;
    },
    delay(match, count, ms) {
      delays.push({ match, remaining: count, ms });
    },
    rateLimit(match, count, retryAfterSeconds, o = {}) {
      rules.push({ match, remaining: count, retryAfterSeconds, global: o.global ?? false });
    },
    rememberInteraction(interaction) {
      interactions.set(String(interaction.id), interaction);
    },
    dispatchInteraction(interaction) {
      interactions.set(String(interaction.id), interaction);
      for (const ws of sockets) send(ws, { op: 0, t: 'INTERACTION_CREATE', s: ++seq, d: interaction });
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const v = predicate();
        if (v) return v;
        if (Date.now() > until) throw new Error('fake Discord: timed out waiting for a condition');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    messagesFor(token) {
      return [...messages.values()].filter((m) => m.interactionToken === token);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return fake;
}
