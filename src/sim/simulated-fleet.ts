import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { nodeGuard, type Guard } from '@infrabot/guard';
import type { Logger } from 'pino';
import type { SimulationConfig } from '../config/health-config-schema.js';

export type ServiceMode = 'healthy' | 'broken' | 'slow';

export interface SimulatedService {
  name: string;
  kind: string;
  port: number;
  mode: ServiceMode;
  /** Why this service is not running in this process (its port was taken), if it is not. */
  notRunning?: string;
}

export interface SimulatedFleet {
  services(): SimulatedService[];
  set(name: string, mode: ServiceMode): void;
  /** Port of the HTTP control endpoint (POST /break/<svc>, /heal/<svc>, /slow/<svc>; GET / lists). */
  controlPort?: number;
  stop(): Promise<void>;
}

/**
 * A tiny fleet on loopback for trying infrabot: HTTP services answer GET /health with {"status":"ok"}
 * (503 when broken, 1.5 s late when slow); TCP services accept connections (reset them when broken).
 */
export async function startSimulatedFleet(
  config: SimulationConfig,
  log: Logger,
  /** Guards for HTTP services that name a cluster: they obey infrabot like a real service would. */
  guardFor?: (service: string, cluster: string) => Promise<Guard>,
): Promise<SimulatedFleet> {
  const guards: Guard[] = [];
  const modes = new Map<string, ServiceMode>(config.services.map((s) => [s.name, 'healthy']));
  /** Ports actually bound (differs from the config for port 0). */
  const ports = new Map<string, number>();
  const servers: (HttpServer | TcpServer)[] = [];
  const sockets = new Set<Socket>();
  const notRunning = new Map<string, string>();
  const listen = (server: HttpServer | TcpServer, port: number, name: string) =>
    new Promise<number | undefined>((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        log.warn({ err, service: name, port }, 'simulated service could not listen; skipped');
        notRunning.set(
          name,
          err.code === 'EADDRINUSE'
            ? `port ${port} is taken (another infrabot instance, or another program)`
            : `it could not listen on port ${port} (${err.code ?? err.message})`,
        );
        resolve(undefined);
      });
      server.listen(port, '127.0.0.1', () => {
        servers.push(server);
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });

  for (const s of config.services) {
    if (s.kind === 'http') {
      const guard = s.cluster && guardFor ? await guardFor(s.name, s.cluster) : undefined;
      if (guard) guards.push(guard);
      const guarded = guard ? nodeGuard(guard) : undefined;
      const server = createHttpServer(async (req, res) => {
        if (guarded && !(await guarded(req, res))) return; // refused: 503/429 with Retry-After
        const mode = modes.get(s.name);
        const answer = () => {
          if (mode === 'broken') {
            res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"unavailable"}');
          } else {
            res.writeHead(200, { 'content-type': 'application/json' }).end(`{"status":"ok","service":"${s.name}","message":"Welcome"}`);
          }
        };
        if (mode === 'slow') setTimeout(answer, 1500);
        else answer();
        void req;
      });
      server.keepAliveTimeout = 30_000;
      const port = await listen(server, s.port, s.name);
      if (port) ports.set(s.name, port);
    } else {
      const server = createTcpServer((socket) => {
        if (modes.get(s.name) === 'broken') return socket.resetAndDestroy();
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
        socket.end('ok\n');
      });
      const port = await listen(server, s.port, s.name);
      if (port) ports.set(s.name, port);
    }
  }

  const fleet: SimulatedFleet = {
    services: () =>
      config.services.map((s) => {
        const why = notRunning.get(s.name);
        return { name: s.name, kind: s.kind, port: ports.get(s.name) ?? s.port, mode: modes.get(s.name)!, ...(why ? { notRunning: why } : {}) };
      }),
    set(name, mode) {
      if (!modes.has(name)) throw new Error(`no simulated service "${name}" (have: ${[...modes.keys()].join(', ')})`);
      modes.set(name, mode);
      log.info({ service: name, mode }, 'simulated service changed');
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => { (s as HttpServer).closeAllConnections?.(); s.close(() => r()); })));
      await Promise.allSettled(guards.map((g) => g.close()));
    },
  };

  if (config.controlPort > 0) {
    const control = createHttpServer((req, res) => {
      const m = /^\/(break|heal|slow)\/([^/]+)$/.exec(req.url ?? '');
      try {
        if (req.method === 'POST' && m) {
          fleet.set(decodeURIComponent(m[2]!), m[1] === 'break' ? 'broken' : m[1] === 'slow' ? 'slow' : 'healthy');
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fleet.services()));
        } else if (req.method === 'GET' && req.url === '/') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(fleet.services()));
        } else {
          res.writeHead(404).end('POST /break/<service>, /heal/<service>, /slow/<service>; GET /\n');
        }
      } catch (err) {
        res.writeHead(404).end(`${(err as Error).message}\n`);
      }
    });
    const port = await listen(control, config.controlPort, 'control');
    if (port) fleet.controlPort = port;
  }
  return fleet;
}
