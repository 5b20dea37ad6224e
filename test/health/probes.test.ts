import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSchema, type CheckConfig } from '../../src/config/health-config-schema.js';
import { runProbe } from '../../src/engine/checks/run-probe.js';
import { fakeService, fakeTcpService } from './health-helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const check = (c: Record<string, unknown>): CheckConfig => checkSchema.parse({ name: 'c', ...c });
const now = () => new Date();

describe('probes', () => {
  it('http: status codes, body keyword, JSON-path condition and maximum latency', async () => {
    const svc = await fakeService();
    cleanups.push(() => svc.close());
    expect(await runProbe(check({ type: 'http', url: svc.url, json: { path: 'status', equals: 'ok' }, bodyContains: 'ok' }), now)).toMatchObject({ ok: true });
    svc.state.body = '{"status":"degraded","checks":[{"db":false}]}';
    expect(await runProbe(check({ type: 'http', url: svc.url, json: { path: 'status', equals: 'ok' } }), now)).toMatchObject({
      ok: false, error: 'status is "degraded" (expected "ok")',
    });
    expect(await runProbe(check({ type: 'http', url: svc.url, json: { path: 'checks[0].db', equals: false } }), now)).toMatchObject({ ok: true });
    expect(await runProbe(check({ type: 'http', url: svc.url, bodyContains: 'Welcome' }), now)).toMatchObject({ ok: false, error: 'body does not contain "Welcome"' });
    svc.state.status = 404;
    expect(await runProbe(check({ type: 'http', url: svc.url, expectStatus: [200, 204] }), now)).toMatchObject({ ok: false, error: 'HTTP 404 (expected 200/204)' });
    expect(await runProbe(check({ type: 'http', url: svc.url, expectStatus: [404] }), now)).toMatchObject({ ok: true });
    svc.heal();
    svc.state.delayMs = 150;
    expect((await runProbe(check({ type: 'http', url: svc.url, maxLatency: '50ms' }), now)).error).toMatch(/^slow: \d+ ms > 50ms$/);
    expect(await runProbe(check({ type: 'http', url: svc.url, timeout: '50ms' }), now)).toMatchObject({ ok: false, error: 'timed out after 50 ms' });
    await svc.close();
    expect((await runProbe(check({ type: 'http', url: svc.url }), now)).error).toContain('ECONNREFUSED');
  });

  it('tcp: connects, and reports a refused connection', async () => {
    const svc = await fakeTcpService();
    expect(await runProbe(check({ type: 'tcp', host: '127.0.0.1', port: svc.port }), now)).toMatchObject({ ok: true });
    await svc.close();
    expect(await runProbe(check({ type: 'tcp', host: '127.0.0.1', port: svc.port }), now)).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
  });

  it('dns: resolves, and checks the expected address', async () => {
    expect(await runProbe(check({ type: 'dns', hostname: 'localhost' }), now)).toMatchObject({ ok: true });
    const wrong = await runProbe(check({ type: 'dns', hostname: 'localhost', expectAddress: '10.9.9.9' }), now);
    expect(wrong.ok).toBe(false);
    expect(wrong.error).toMatch(/^localhost resolves to .*, not 10\.9\.9\.9$/);
    expect((await runProbe(check({ type: 'dns', hostname: 'no-such-host.invalid' }), now)).ok).toBe(false);
  });

  it('command: exit code and timeout', async () => {
    const node = process.execPath;
    expect(await runProbe(check({ type: 'command', command: node, args: ['-e', 'process.exit(0)'] }), now)).toMatchObject({ ok: true });
    expect(await runProbe(check({ type: 'command', command: node, args: ['-e', 'console.error("disk full"); process.exit(3)'] }), now)).toMatchObject({
      ok: false, error: 'exit 3 (expected 0): disk full',
    });
    expect(await runProbe(check({ type: 'command', command: node, args: ['-e', 'process.exit(3)'], expectExit: 3 }), now)).toMatchObject({ ok: true });
    expect(await runProbe(check({ type: 'command', command: node, args: ['-e', 'setTimeout(() => {}, 5000)'], timeout: '300ms' }), now)).toMatchObject({
      ok: false, error: 'timed out after 300 ms',
    });
  });

  it('tls: reports days until the certificate expires', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'infrabot-tls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '10', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const server = createTlsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const ok = await runProbe(check({ type: 'tls', host: '127.0.0.1', servername: 'localhost', port, insecure: true }), now);
    expect(ok.ok).toBe(true);
    expect(ok.certDaysLeft).toBeGreaterThan(9);
    expect(ok.certDaysLeft).toBeLessThanOrEqual(10);
    // Self-signed without `insecure`: refused.
    expect((await runProbe(check({ type: 'tls', host: '127.0.0.1', servername: 'localhost', port }), now)).ok).toBe(false);
    // Eleven days on, the certificate has expired.
    const later = () => new Date(Date.now() + 11 * 86_400_000);
    expect((await runProbe(check({ type: 'tls', host: '127.0.0.1', servername: 'localhost', port, insecure: true }), later)).error).toMatch(/^certificate expired/);
  });

  it('rejects intervals under 10 s in the config', () => {
    expect(() => check({ type: 'tcp', host: 'h', port: 1, interval: '5s' })).toThrow(/at least 10s/);
  });
});
