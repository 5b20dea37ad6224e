import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { CheckConfig } from '../../config/health-config-schema.js';
import { parseDuration } from '../../util/duration.js';

/** What one probe found. Probes never throw: every failure is a result with an error text. */
export interface ProbeOutcome {
  ok: boolean;
  latencyMs: number;
  error?: string;
  /** TLS checks: days until the certificate expires. */
  certDaysLeft?: number;
}

const DAY_MS = 86_400_000;

export async function runProbe(check: CheckConfig, now: () => Date): Promise<ProbeOutcome> {
  const timeoutMs = parseDuration(check.timeout) ?? 5000;
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  try {
    const error = await probe(check, timeoutMs, now);
    if (typeof error === 'object') return { ok: error.error === undefined, latencyMs: elapsed(), ...error };
    const latencyMs = elapsed();
    if (error) return { ok: false, latencyMs, error };
    if (check.type === 'http' && check.maxLatency && latencyMs > (parseDuration(check.maxLatency) ?? Infinity)) {
      return { ok: false, latencyMs, error: `slow: ${Math.round(latencyMs)} ms > ${check.maxLatency}` };
    }
    return { ok: true, latencyMs };
  } catch (err) {
    return { ok: false, latencyMs: elapsed(), error: describeError(err, timeoutMs) };
  }
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    const code = (err as NodeJS.ErrnoException).code ?? cause?.code;
    return code ? `${code}${cause?.message && !cause.message.includes(code) ? `: ${cause.message}` : ''}` : err.message;
  }
  return String(err);
}

/** Returns an error text, undefined when healthy, or a partial outcome (TLS). */
async function probe(check: CheckConfig, timeoutMs: number, now: () => Date): Promise<string | undefined | Omit<ProbeOutcome, 'latencyMs' | 'ok'>> {
  switch (check.type) {
    case 'http': {
      const needBody = check.bodyContains !== undefined || check.json !== undefined;
      const deadline = Date.now() + timeoutMs;
      let res: { status: number; body: string };
      try {
        res = await get(check.url, check.method, timeoutMs, needBody);
      } catch (err) {
        // A kept-alive socket the server closed meanwhile is not the service failing: retry once on a fresh one.
        if (!(err as { reused?: boolean }).reused || Date.now() >= deadline) throw err;
        res = await get(check.url, check.method, deadline - Date.now(), needBody);
      }
      const body = res.body;
      if (!check.expectStatus.includes(res.status)) return `HTTP ${res.status} (expected ${check.expectStatus.join('/')})`;
      if (check.bodyContains !== undefined && !body.includes(check.bodyContains)) return `body does not contain "${check.bodyContains}"`;
      if (check.json) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return 'body is not JSON';
        }
        const value = readPath(parsed, check.json.path);
        if (value !== check.json.equals) return `${check.json.path} is ${JSON.stringify(value)} (expected ${JSON.stringify(check.json.equals)})`;
      }
      return undefined;
    }
    case 'tcp':
      await new Promise<void>((resolve, reject) => {
        const socket = netConnect({ host: check.host, port: check.port });
        socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })));
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
      return undefined;
    case 'tls':
      return new Promise((resolve, reject) => {
        const socket = tlsConnect({
          host: check.host,
          port: check.port,
          servername: check.servername ?? check.host,
          rejectUnauthorized: !check.insecure,
        });
        socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })));
        socket.once('secureConnect', () => {
          const cert = socket.getPeerCertificate();
          socket.destroy();
          if (!cert?.valid_to) return resolve('no certificate presented');
          const days = Math.floor(((Date.parse(cert.valid_to) - now().getTime()) / DAY_MS) * 10) / 10;
          resolve(days <= 0 ? { error: `certificate expired ${-days} days ago`, certDaysLeft: days } : { certDaysLeft: days });
        });
        socket.once('error', reject);
      });
    case 'dns': {
      const addresses = await Promise.race([
        lookup(check.hostname, { all: true }),
        new Promise<never>((_, reject) => setTimeout(() => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), timeoutMs).unref()),
      ]);
      if (addresses.length === 0) return `${check.hostname} has no addresses`;
      if (check.expectAddress && !addresses.some((a) => a.address === check.expectAddress)) {
        return `${check.hostname} resolves to ${addresses.map((a) => a.address).join(', ')}, not ${check.expectAddress}`;
      }
      return undefined;
    }
    case 'command':
      return runCommand(check.command, check.args, check.expectExit, timeoutMs);
  }
}

/** Only what a probe command needs: chat tokens and other secrets in the bot's environment are not passed on. */
function probeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'LANG'] as const) if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

/** Kills the probe's whole process group (a shell's background children too); it may be gone already. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left to kill.
  }
}

/**
 * Runs a command check in its own process group. The result is decided when the command itself exits
 * (not when its output closes, which a background child could hold open), and on timeout the whole group
 * is killed.
 */
function runCommand(command: string, args: readonly string[], expectExit: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: probeEnv() });
    const finish = (result: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup(child.pid); // leftovers of the probe (background jobs) must not outlive it
      child.stderr?.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(`timed out after ${timeoutMs} ms`), timeoutMs);
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString('utf8');
    });
    child.once('error', (err: NodeJS.ErrnoException) => finish(`exit ${err.code ?? 'error'} (expected ${expectExit})${err.message ? `: ${err.message.slice(0, 200)}` : ''}`));
    let stderrDone = false;
    child.stderr?.once('end', () => (stderrDone = true));
    child.once('exit', (code, signal) => {
      const got = code ?? signal ?? 'error';
      if (got === expectExit) return finish(undefined);
      const report = () => {
        const tail = stderr.trim().split('\n').pop()?.slice(0, 200);
        finish(`exit ${got} (expected ${expectExit})${tail ? `: ${tail}` : ''}`);
      };
      // 'exit' can come before the last stderr bytes; wait briefly for them, not for a background child.
      if (stderrDone || !child.stderr) return report();
      child.stderr.once('end', report);
      setTimeout(report, 100).unref();
    });
  });
}

// Keep-alive agents: probing every few seconds should not open a new connection each time.
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 512 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 512 }) };

function get(url: string, method: string, timeoutMs: number, needBody: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const https = u.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(u, { method, agent: https ? agents.https : agents.http }, (res) => {
      const chunks: Buffer[] = [];
      if (needBody) res.on('data', (c: Buffer) => chunks.push(c));
      else res.resume();
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(Object.assign(err, { reused: req.reusedSocket }));
    });
    req.end();
  });
}

/** `a.b[0].c` into parsed JSON. */
export function readPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
