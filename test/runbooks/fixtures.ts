import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatSink, PostedMessage } from '../../src/chat/chat-sink.js';
import type { Reply } from '../../src/framework/reply.js';
import { FINISHED, type RunRecord } from '../../src/store/runbook-run-store.js';
import { shortId } from '../../src/util/ids.js';
import type { TestApp } from '../helpers/test-app.js';
import { eventually } from '../helpers/redis.js';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback HTTP server answering with `handle`; records every request. */
export async function loopback(handle: (req: Received, res: ServerResponse) => void): Promise<{ url: string; requests: Received[]; close(): Promise<void>; server: Server }> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(r);
      handle(r, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    server,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

export const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** A chat sink that keeps every post and edit, as a chat platform would show them. */
export function recordingSink(platform = 'console') {
  const messages = new Map<string, Reply[]>();
  const sink: ChatSink = {
    platform,
    async post(channel, reply) {
      const messageId = shortId(8);
      messages.set(messageId, [reply]);
      return { platform, channel, messageId };
    },
    async update(message: PostedMessage, reply) {
      messages.get(message.messageId)!.push(reply);
    },
  };
  return { sink, messages, latest: (id: string) => messages.get(id)?.at(-1) };
}

/** Runs a command as a user in a channel (so progress is posted there). */
export function say(app: TestApp, text: string, o: { as?: string; id?: string; confirmed?: boolean } = {}) {
  const user = o.as ?? 'local:root-admin';
  return app.pipeline.handle({
    id: o.id ?? shortId(16),
    platform: 'console',
    channel: 'ops',
    user: { id: user, displayName: user.split(':')[1]! },
    text,
    confirmed: o.confirmed ?? true,
  });
}

export async function finished(app: TestApp, id: string, ms = 10_000): Promise<RunRecord> {
  let run: RunRecord | undefined;
  await eventually(async () => {
    run = await app.runbooks.service.get(id);
    return Boolean(run && FINISHED.includes(run.status));
  }, ms, `run ${id} to finish`);
  return run!;
}

export const runIdOf = (reply: Reply) => (reply.data as { run: { id: string } | null }).run!.id;

/** A node one-liner as an argv (no shell involved). */
export const nodeArgv = (script: string, ...args: string[]) => [process.execPath, '-e', script, ...args];
