import { randomBytes } from 'node:crypto';
import type { App } from '../app.js';
import { createHttpServer } from './create-http-server.js';

export interface RunningHttpApi {
  /** Where it listens, or undefined when it is off or could not start. */
  url?: string;
  /** The control stream as this process's own guards reach it (with a viewer key that lives as long as the process). */
  stream?: { url: string; headers: Record<string, string> };
  stop(): Promise<void>;
}

/**
 * Starts the HTTP control API of `infrabot start` as configured, and says where in one line. A port that is
 * taken (a second instance) is reported and the bot runs on without the API: chat must not die for it.
 */
export async function startHttpApi(app: App, say: (line: string) => void): Promise<RunningHttpApi> {
  const { enabled, host, port } = app.config.http;
  const off = { stop: async () => undefined };
  if (!enabled || !app.apiKeys) return off;
  const processKey = randomBytes(32).toString('base64url');
  const server = await createHttpServer({ app, processKey });
  try {
    const address = await server.listen({ host, port });
    const url = address.replace('://[::1]', '://localhost');
    say(`HTTP control API on ${url} (docs at ${url}/docs; keys: \`apikey create <name> --role viewer\`).`);
    const stream = { url: `${url}/api/control/stream`, headers: { authorization: `Bearer ${processKey}` } };
    return { url, stream, stop: () => server.close() };
  } catch (err) {
    await server.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? `port ${port} on ${host} is in use (another infrabot?)` : code === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine` : (err as Error).message;
    app.log.warn({ err, host, port }, 'HTTP control API not started');
    say(`HTTP control API not started: ${why}. Set http.port (or http.enabled: false) in the config.`);
    return off;
  }
}
