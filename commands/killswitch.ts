import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { describeImpact } from '../src/engine/control-services.js';
import { describeChange } from '../src/engine/describe-state.js';
import { checkTimeLimit, revertIfLimited, timeLimitOptions } from '../src/framework/services/schedules.js';
import { changed, killSwitchData, toChangeData } from '../src/engine/state-data.js';

const data = z.object({ changed, killSwitch: killSwitchData });

export default defineGroup({
  name: 'killswitch',
  summary: 'Global kill-switch: stop all traffic to every cluster at once.',
  subcommands: [
    defineSubcommand({
      name: 'on',
      summary: 'Turn the global kill-switch on: every cluster refuses traffic.',
      options: z.object({ reason: opt.reason(), ...timeLimitOptions }),
      role: 'admin',
      mutates: true,
      dangerous: (a) => `Turning the kill-switch ON stops traffic to EVERY cluster${a.for ? ` for ${a.for}` : a.until ? ` until ${a.until}` : ''}.`,
      impact: (_a, { services }) => describeImpact(services?.control, 'the kill-switch'),
      examples: ['killswitch on --reason "data corruption in payments, stopping writes"', 'killswitch on --for 1h --reason "database migration"'],
      data,
      handler: (a, ctx) => {
        const { change, state } = ctx;
        checkTimeLimit(ctx, a);
        const changed = change.setKillSwitch(true, a.reason);
        const data = { changed, killSwitch: { on: true, change: toChangeData(change.state.killSwitch.change) } };
        if (!changed) {
          return { title: 'Kill-switch was already on', text: `Nothing changed${describeChange(state.killSwitch.change)}.`, data };
        }
        const revert = revertIfLimited(ctx, a, {
          command: (why) => `killswitch off --reason "${why}"`,
          guard: { scope: 'global', types: ['killswitch.set'] },
          what: 'The kill-switch turns off',
        });
        return { title: '🛑 Global kill-switch is ON', text: `All clusters now refuse traffic. Reason: ${a.reason}${revert ? `\n${revert}` : ''}`, severity: 'critical', data };
      },
    }),
    defineSubcommand({
      name: 'off',
      summary: 'Turn the global kill-switch off: clusters serve traffic again as their own state allows.',
      options: z.object({ reason: opt.reason().optional() }),
      role: 'admin',
      mutates: true,
      examples: ['killswitch off --reason "fix deployed"'],
      data,
      handler: ({ reason }, { change }) => {
        const changed = change.setKillSwitch(false, reason);
        const data = { changed, killSwitch: { on: false, change: toChangeData(change.state.killSwitch.change) } };
        if (!changed) return { title: 'Kill-switch was already off', text: 'Nothing changed.', data };
        return { title: '✅ Global kill-switch is off', text: `Clusters serve traffic again as their own state allows.${reason ? ` Reason: ${reason}` : ''}`, data };
      },
    }),
  ],
});
