import { z } from 'zod';
import { defineGroup, defineSubcommand, opt } from '../src/framework/define-command.js';
import { describeImpact } from '../src/engine/control-services.js';
import { describeChange } from '../src/engine/describe-state.js';

export default defineGroup({
  name: 'killswitch',
  summary: 'Global kill-switch: stop all traffic to every cluster at once.',
  subcommands: [
    defineSubcommand({
      name: 'on',
      summary: 'Turn the global kill-switch on: every cluster refuses traffic.',
      options: z.object({ reason: opt.reason() }),
      role: 'admin',
      mutates: true,
      dangerous: () => 'Turning the kill-switch ON stops traffic to EVERY cluster.',
      impact: (_a, { services }) => describeImpact(services, 'the kill-switch'),
      examples: ['killswitch on --reason "data corruption in payments, stopping writes"'],
      handler: ({ reason }, { change, state }) => {
        if (!change.setKillSwitch(true, reason)) {
          return { title: 'Kill-switch was already on', text: `Nothing changed${describeChange(state.killSwitch.change)}.` };
        }
        return { title: '🛑 Global kill-switch is ON', text: `All clusters now refuse traffic. Reason: ${reason}`, severity: 'critical' };
      },
    }),
    defineSubcommand({
      name: 'off',
      summary: 'Turn the global kill-switch off: clusters serve traffic again as their own state allows.',
      options: z.object({ reason: opt.reason().optional() }),
      role: 'admin',
      mutates: true,
      examples: ['killswitch off --reason "fix deployed"'],
      handler: ({ reason }, { change }) => {
        if (!change.setKillSwitch(false, reason)) return { title: 'Kill-switch was already off', text: 'Nothing changed.' };
        return { title: '✅ Global kill-switch is off', text: `Clusters serve traffic again as their own state allows.${reason ? ` Reason: ${reason}` : ''}` };
      },
    }),
  ],
});
