import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSchema, type CheckConfig } from '../../src/config/health-config-schema.js';
import { runProbe } from '../../src/engine/checks/run-probe.js';

const check = (c: Record<string, unknown>): CheckConfig => checkSchema.parse({ name: 'c', type: 'command', ...c });
const now = () => new Date();
/** A `sleep` duration no other process on this machine uses (other test runs may be probing at the same time). */
const marker = () => `600.${process.pid}${Math.floor(Math.random() * 1e6)}`;
/** How many `sleep <marker>` processes exist. */
const running = (m: string) => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.trim() === `sleep ${m}`).length;
/** Waits for a killed process group to be gone: SIGKILL is delivered when the scheduler gets to it, not at once. */
async function gone(...markers: string[]): Promise<void> {
  for (const deadline = Date.now() + 10_000; markers.some((m) => running(m) > 0); await sleep(50)) {
    if (Date.now() > deadline) throw new Error(`sleep ${markers.join(' / ')} still running 10 s after the probe ended`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'infrabot-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('command probes', () => {
  it('are decided when the command exits, not when a background child lets go of its output', async () => {
    const m = marker();
    // The background child holds the probe's stderr for ten minutes: a probe waiting for its output to close
    // would time out instead of passing.
    const r = await runProbe(check({ command: 'sh', args: ['-c', `sleep ${m} & exit 0`], timeout: '15s' }), now);
    expect(r).toMatchObject({ ok: true });
    await gone(m); // leftovers of the probe are killed with its process group
  }, 30_000);

  it('kill the whole process group on timeout', async () => {
    const [a, b] = [marker(), marker()];
    const ready = join(dir, 'children-started');
    const r = await runProbe(check({ command: 'sh', args: ['-c', `sleep ${a} & sleep ${b} & : > ${ready}; wait`], timeout: '2s' }), now);
    expect(r).toMatchObject({ ok: false, error: 'timed out after 2000 ms' });
    expect(existsSync(ready)).toBe(true); // both children were there when the group was killed
    await gone(a, b);
  }, 30_000);

  it('do not see the bot\'s chat tokens', async () => {
    process.env.SLACK_BOT_TOKEN = 'xoxb-test-secret';
    process.env.DISCORD_TOKEN = 'discord-test-secret';
    try {
      const r = await runProbe(check({ command: 'sh', args: ['-c', 'env | grep -E "^(SLACK|DISCORD)_" >&2 && exit 1; test -n "$PATH"'] }), now);
      expect(r).toMatchObject({ ok: true });
    } finally {
      delete process.env.SLACK_BOT_TOKEN;
      delete process.env.DISCORD_TOKEN;
    }
  });
});
