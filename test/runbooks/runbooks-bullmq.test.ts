import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/util/package-root.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { eventually, REDIS_URL, redisPrefix, redisReachable } from '../helpers/redis.js';
import { finished, nodeArgv, recordingSink, runIdOf, say } from './fixtures.js';

const ok = await redisReachable('runbooks on BullMQ');

function config(prefix: string) {
  const svc = {
    cluster: 'api',
    runbooks: {
      deploy: { steps: [{ name: 'ship', type: 'exec', argv: nodeArgv('console.log("shipped " + process.argv[1])', '{{version}}') }] },
      // Prints its pid so the test can clean up the orphan once its worker is killed.
      hang: { steps: [{ name: 'long', type: 'exec', argv: nodeArgv('console.log("started pid=" + process.pid); setTimeout(() => {}, 30000)') }] },
    },
  };
  return `
clusters:
  api:
    rateLimits: { perMinute: 600, perHour: 20000, perDay: 300000 }
admins: [local:root-admin]
redis: { url: "${REDIS_URL}", prefix: "${prefix}" }
runbooks: { poll: 50ms, stalledAfter: 1s, inProcessWorker: false }
services:
  shop: ${JSON.stringify(svc)}
`;
}

(ok ? describe : describe.skip)('runbooks on BullMQ with real Redis', () => {
  let app: TestApp;
  let keys: ReturnType<typeof redisPrefix>;
  let chat: ReturnType<typeof recordingSink>;
  let dir: string;
  const workers: ChildProcess[] = [];

  beforeEach(async () => {
    keys = redisPrefix();
    dir = mkdtempSync(join(tmpdir(), 'infrabot-rb-'));
    writeFileSync(join(dir, 'config.yaml'), config(keys.prefix));
    app = await createTestApp({ dir, config: config(keys.prefix), env: { PATH: process.env.PATH } });
    chat = recordingSink();
    app.runbooks.messenger.addSink(chat.sink);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.exitCode === null) w.kill('SIGKILL');
    await app.cleanup();
    rmSync(dir, { recursive: true, force: true });
    await keys.cleanup();
  });

  /** `infrabot worker` as its own process on the same database and Redis. */
  async function startWorker(): Promise<ChildProcess> {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const w = spawn(process.execPath, ['--import', tsx, join(PACKAGE_ROOT, 'test/helpers/cli-entry.ts'), 'worker', '--config', join(dir, 'config.yaml'), '--data-dir', dir], {
      env: { ...process.env, INFRABOT_KEY_DIR: app.keyDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.push(w);
    let out = '';
    w.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    w.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    await eventually(() => out.includes('running runbooks from BullMQ'), 20_000, `the worker to start (${out})`);
    return w;
  }

  it('runs a deploy through a BullMQ worker in this process, editing the chat message from queue events', async () => {
    await app.runbooks.start({ worker: true });
    const reply = await say(app, 'deploy shop 2.0.1');
    expect(reply.outcome).toBe('ok');
    const run = await finished(app, runIdOf(reply));
    expect(run.status).toBe('succeeded');
    expect(run.output).toContain('shipped 2.0.1');
    await eventually(async () => {
      await app.runbooks.messenger.idle();
      return [...chat.messages.values()][0]?.at(-1)?.title.includes('succeeded') ?? false;
    });
    expect((await say(app, 'status')).text).toContain('Runbooks run BullMQ on redis://127.0.0.1:6379');
  });

  it('holds one run per service and environment in a Redis lock, and one run per request', async () => {
    const first = await say(app, 'runbook run hang shop', { id: 'same-delivery' });
    const id = runIdOf(first);
    const r = new Redis(REDIS_URL);
    try {
      expect(await r.get(`${keys.prefix}:runbook-lock:shop:production`)).toBe(id);
    } finally {
      r.disconnect();
    }
    const again = await say(app, 'runbook run hang shop', { id: 'same-delivery' });
    expect(runIdOf(again)).toBe(id);
    const other = await say(app, 'deploy shop 2.0.2');
    expect(other.outcome).toBe('invalid');
    expect(other.text).toContain(`busy: hang run ${id}`);
    // Queued, not started (no worker): cancelling releases the lock at once.
    await say(app, `runs cancel ${id}`);
    expect((await app.runbooks.service.get(id))!.status).toBe('cancelled');
    expect((await say(app, 'deploy shop 2.0.2')).outcome).toBe('ok');
  });

  it('a worker killed with SIGKILL mid-run: the run is reported interrupted, never lost or re-run', async () => {
    await app.runbooks.start({ worker: false });
    const first = await startWorker();
    const id = runIdOf(await say(app, 'runbook run hang shop'));
    let pid = 0;
    await eventually(async () => {
      const m = /started pid=(\d+)/.exec((await app.runbooks.service.get(id))!.output);
      pid = m ? Number(m[1]) : 0;
      return pid > 0;
    }, 20_000, 'the step to start in the worker');
    first.kill('SIGKILL');
    try {
      process.kill(pid, 'SIGKILL'); // the step's own process outlives its worker; not ours to leave behind
    } catch {
      /* already gone */
    }
    await startWorker();
    const run = await finished(app, id, 30_000);
    expect(run.status).toBe('interrupted');
    expect(run.error).toContain('steps were not re-run');
    expect(run.output.match(/started pid=/g)).toHaveLength(1);
    await eventually(async () => {
      await app.runbooks.messenger.idle();
      return [...chat.messages.values()][0]?.at(-1)?.title.includes('interrupted') ?? false;
    }, 10_000, 'the chat message to say interrupted');
    // The lock went with it: the next deploy starts.
    expect((await say(app, 'deploy shop 2.0.3')).outcome).toBe('ok');
  }, 60_000);
});
