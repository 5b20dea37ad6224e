import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Routes, type API, type APIInteraction, type APIInteractionResponse } from '@discordjs/core/http-only';
import type { RawFile } from '@discordjs/rest';
import type { Logger } from 'pino';
import type { InteractionHandler } from './handle-discord-interaction.js';
import { safeError } from './safe-error.js';
import type { SignatureVerifier } from './verify-discord-signature.js';

export const INTERACTIONS_PATH = '/discord/interactions';
const MAX_BODY_BYTES = 1024 * 1024;
/** Discord gives up after 3 s; never leave a request hanging longer than that. */
const RESPONSE_DEADLINE_MS = 3000;

export interface DiscordHttpEndpoint {
  server: Server;
  /** `http://host:port/discord/interactions` */
  url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const plain = (res: ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
};

/**
 * The HTTP interactions endpoint: verifies the Ed25519 signature (401 otherwise, which Discord probes),
 * answers PING with PONG and hands everything else to the shared interaction handler. The initial response
 * goes back in the HTTP body; with files it is sent through the callback endpoint and the request gets 202.
 */
export async function startDiscordHttpEndpoint(opts: {
  port: number;
  host?: string;
  verifier: SignatureVerifier;
  handler: InteractionHandler;
  api: API;
  log: Logger;
}): Promise<DiscordHttpEndpoint> {
  const { verifier, handler, api, log } = opts;

  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      log.error({ error: safeError(err) }, 'discord interactions endpoint failed');
      if (!res.headersSent) plain(res, 500, 'internal error');
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '').split('?')[0];
    if (path !== INTERACTIONS_PATH) return plain(res, 404, 'not found');
    if (req.method !== 'POST') return plain(res, 405, 'method not allowed');
    const raw = await readBody(req);
    if (!raw) return plain(res, 413, 'body too large');
    const check = await verifier.check(header(req, 'x-signature-ed25519'), header(req, 'x-signature-timestamp'), raw);
    if (!check.ok) {
      log.warn({ reason: check.reason, remote: req.socket.remoteAddress }, 'discord interaction refused: invalid request signature');
      return plain(res, 401, 'invalid request signature');
    }
    let interaction: APIInteraction;
    try {
      interaction = JSON.parse(raw.toString('utf8')) as APIInteraction;
    } catch {
      return plain(res, 400, 'body is not JSON');
    }

    let answered = false;
    const answer = (status: number, json?: APIInteractionResponse) => {
      if (answered) return;
      answered = true;
      if (json) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      else res.writeHead(status).end();
    };
    const deadline = setTimeout(() => {
      log.error({ interaction: interaction.id }, 'no initial response within 3 s');
      answer(500);
    }, RESPONSE_DEADLINE_MS);
    try {
      await handler(interaction, {
        respond: async (body, files?: RawFile[]) => {
          if (answered) throw new Error('the initial response was already sent');
          if (files?.length) {
            // An inline response cannot carry files; send them through the callback endpoint instead.
            await api.rest.post(Routes.interactionCallback(interaction.id, interaction.token), { body, files, auth: false });
            answer(202);
          } else answer(200, body);
        },
      });
    } finally {
      clearTimeout(deadline);
      if (!answered) answer(500);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}${INTERACTIONS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const header = (req: IncomingMessage, name: string) => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};
