import { describe, expect, it } from 'vitest';
import alert from '../../commands/alert.js';
import health from '../../commands/health.js';
import incident from '../../commands/incident.js';
import maintenance from '../../commands/maintenance.js';
import silence from '../../commands/silence.js';
import { COMMAND_GROUPS } from '../../commands/index.js';
import { parseCommand } from '../../src/framework/parse-command.js';
import { createRegistry } from '../../src/framework/registry.js';

describe('health command definitions', () => {
  const registry = createRegistry(COMMAND_GROUPS);
  it('are registered and every example parses to its own subcommand', () => {
    for (const g of [health, alert, silence, maintenance, incident]) {
      expect(registry.group(g.name)).toBe(g);
      for (const s of g.subcommands) {
        for (const example of s.examples) {
          const p = parseCommand(registry, example, 'local');
          expect(p.kind === 'command' && p.group.name === g.name && p.sub.name === s.name, example).toBe(true);
        }
      }
    }
  });

  it('parses the forms the issue names', () => {
    const args = (t: string) => {
      const p = parseCommand(registry, t, 'slack');
      if (p.kind !== 'command') throw new Error('help');
      return { name: p.name, args: p.args };
    };
    expect(args('incident declare "DB down" --sev 1 --cluster api')).toEqual({ name: 'incident declare', args: { title: 'DB down', sev: 1, cluster: 'api' } });
    expect(args('incident assign 4 comms <@U123>').args).toEqual({ id: 4, role: 'comms', user: 'slack:U123' });
    expect(args('incident update 4 rolled back the deploy').args).toEqual({ id: 4, text: 'rolled back the deploy' });
    expect(args('silence api --for 2h --reason noisy upstream')).toEqual({ name: 'silence add', args: { target: 'api', for: '2h', reason: 'noisy upstream' } });
    expect(args('maintenance start api --for 2h').args).toEqual({ cluster: 'api', for: '2h', reason: 'planned maintenance' });
    expect(args('health history api-http --since 7d').args).toEqual({ check: 'api-http', since: '7d' });
    expect(() => parseCommand(registry, 'incident declare "x y z" --sev 5', 'local')).toThrow(/--sev/);
  });
});
