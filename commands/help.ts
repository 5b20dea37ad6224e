import { z } from 'zod';
import { defineGroup, defineSubcommand } from '../src/framework/define-command.js';
import { helpData, renderHelp } from '../src/framework/render-help.js';

// `help` with no topic is handled by the parser before authorization, so even users without a role get it.
export default defineGroup({
  name: 'help',
  summary: 'List commands, or show options and examples of one.',
  defaultSubcommand: 'help',
  subcommands: [
    defineSubcommand({
      name: 'help',
      summary: 'Show help.',
      options: z.object({ topic: z.string().optional().describe('Command to explain, e.g. "cluster"') }),
      positionals: ['topic'],
      role: 'anyone',
      examples: ['help', 'help cluster', 'help ratelimit set'],
      data: helpData,
      handler: ({ topic }, ctx) => {
        const { reply } = renderHelp(ctx.registry, topic);
        return { ...reply, data: reply.data ?? { topic: topic ?? null, commands: [] } };
      },
    }),
  ],
});
