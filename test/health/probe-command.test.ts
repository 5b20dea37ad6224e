import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkSchema, type CheckConfig } from '../../src/config/health-config-schema.js';
import { runProbe } from '../../src/engine/checks/run-probe.js';

const check = (c: Record<string, unknown>): CheckConfig => checkSchema.parse({ name: 'c', type: 'command', ...c });
const now = () => new Date();
const alive = (marker: string) => execFileSync('sh', ['-c', `ps -eo args | grep -c "[s]leep ${marker}" || true`]).toString().trim();

describe('command probes', () => {
  it('are decided when the command exits, not when a background child lets go of its output', async () => {
    const started = Date.now();
    const r = await runProbe(check({ command: 'sh', args: ['-c', 'sleep 7.31 & exit 0'], timeout: '3s' }), now);
    expect(r).toMatchObject({ ok: true });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(alive('7.31')).toBe('0'); // leftovers of the probe are killed with its process group
  });

  it('kill the whole process group on timeout', async () => {
    const r = await runProbe(check({ command: 'sh', args: ['-c', 'sleep 7.32 & sleep 7.33; true'], timeout: '300ms' }), now);
    expect(r).toMatchObject({ ok: false, error: 'timed out after 300 ms' });
    await new Promise((res) => setTimeout(res, 100));
    expect(alive('7.3[23]')).toBe('0');
  });

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
