import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresReachable, postgresSchema } from '../helpers/sql-backends.js';

/**
 * Three real processes on one PostgreSQL schema probe a loopback server; the server records when each check
 * was probed. Each check is probed once per interval across the three, and when the process probing one is
 * killed (SIGKILL: no goodbye) another takes it over within one interval plus the lease time.
 */
const INTERVAL_S = 10;
const LEASE_S = 2;
const pgOk = await postgresReachable('health probes across replica processes');
const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

(pgOk ? describe : describe.skip)('health probes across three replica processes', () => {
  it('one probe per check per interval; a killed replica\'s checks are taken over within interval + lease', async () => {
    const probes = new Map<string, number[]>();
    const server = createServer((req, res) => {
      const path = req.url ?? '';
      probes.set(path, [...(probes.get(path) ?? []), Date.now()]);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;

    const s = await postgresSchema();
    const client = new pg.Client({ connectionString: s.url });
    await client.connect();
    await client.query(`CREATE SCHEMA "${s.schema}"`);
    stops.push(async () => {
      await client.end();
      await s.drop();
    });
    const url = `${s.url}?options=${encodeURIComponent(`-c search_path=${s.schema}`)}`;
    const checks = ['c0', 'c1', 'c2'].map((c) => `      - { name: ${c}, type: http, url: "http://127.0.0.1:${port}/${c}", interval: ${INTERVAL_S}s, timeout: 2s }`);
    const config = `clusters:\n  api:\n    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }\n    checks:\n${checks.join('\n')}\nadmins: [local:root-admin]\nstorage: { url: "${url}" }\nhealth: { leaseTime: ${LEASE_S}s }\n`;
    const keyDir = mkdtempSync(join(tmpdir(), 'infrabot-replica-keys-'));
    stops.push(() => rmSync(keyDir, { recursive: true, force: true }));

    const start = () =>
      new Promise<{ proc: ChildProcess; replica: string }>((resolve, reject) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'health-worker.ts'), config, keyDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        stops.push(() => void proc.kill('SIGKILL'));
        let err = '';
        proc.stderr!.on('data', (d: Buffer) => (err += String(d)));
        proc.stdout!.on('data', (d: Buffer) => {
          const m = /ready (\S+)/.exec(String(d));
          if (m) resolve({ proc, replica: m[1]! });
        });
        proc.on('exit', (code) => reject(new Error(`replica exited (${code}) before it was ready: ${err}`)));
      });
    // One at a time: the first migrates, and the key is created once.
    const replicas = [await start()];
    replicas.push(...(await Promise.all([start(), start()])));

    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const observedFrom = Date.now();
    await sleep(3 * INTERVAL_S * 1000 + 1000);
    const within = (from: number, to: number) => (c: string) => (probes.get(`/${c}`) ?? []).filter((t) => t >= from && t < to);
    for (const c of ['c0', 'c1', 'c2']) {
      const seen = within(observedFrom, Date.now())(c);
      // 31 s hold three slots of a 10 s check: three probes, not one per replica per slot.
      expect(seen.length, `${c} probed at ${seen.map((t) => t - observedFrom).join(', ')} ms`).toBeGreaterThanOrEqual(2);
      expect(seen.length).toBeLessThanOrEqual(4);
      for (let i = 1; i < seen.length; i++) expect(seen[i]! - seen[i - 1]!).toBeGreaterThan(INTERVAL_S * 1000 * 0.8);
    }

    const { rows } = await client.query<{ owner: string }>(`SELECT owner FROM "${s.schema}".health_leases WHERE name = 'check:c0'`);
    const victim = replicas.find((r) => r.replica === rows[0]!.owner)!;
    expect(victim).toBeDefined();
    const lastBefore = Math.max(...(probes.get('/c0') ?? []));
    victim.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await sleep((INTERVAL_S + LEASE_S) * 1000 + 3000);
    const after = (probes.get('/c0') ?? []).filter((t) => t > killedAt);
    expect(after.length, 'c0 was probed again after its replica died').toBeGreaterThanOrEqual(1);
    // Taken over at its first slot after the lease expired: within one interval plus the lease (plus the
    // second the replicas look again, and process scheduling slack).
    expect(after[0]! - lastBefore).toBeLessThanOrEqual((INTERVAL_S + LEASE_S + 2) * 1000);
    const { rows: owners } = await client.query<{ owner: string }>(`SELECT owner FROM "${s.schema}".health_leases WHERE name LIKE 'check:%'`);
    expect(owners.map((o) => o.owner)).not.toContain(victim.replica);
  }, 120_000);
});
