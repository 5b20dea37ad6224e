import { UserError } from '../../user-error.js';
import { userPlatformPrefix } from '../invocation.js';
import { parseCommand, type ParsedCommand } from '../parse-command.js';
import { parseStructured } from '../parse-structured.js';
import { renderHelp } from '../render-help.js';
import type { Reply } from '../reply.js';
import { auditDraft, answer, type Parsed, type PipelineShared, type Run } from './run-context.js';
import { finish, userErrorReply } from './replies.js';

/**
 * Step 1: text (or the HTTP API's structured command) to a command. Bad input and help are answered here
 * (audited like any invocation); a command goes on to the next step.
 */
export async function parseStep(shared: PipelineShared, run: Run): Promise<{ parsed: Parsed } | { reply: Reply }> {
  const { inv } = run;
  let parsed: ParsedCommand;
  try {
    parsed = inv.command
      ? parseStructured(shared.registry, inv.command, userPlatformPrefix(inv.user.id))
      : parseCommand(shared.registry, inv.text, userPlatformPrefix(inv.user.id));
    run.command = parsed.kind === 'command' ? parsed.name : 'help';
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { reply: await answer(shared, run, userErrorReply(run.traceId, err), auditDraft(run, shared.engine, 'invalid', undefined, err.message)) };
  }
  if (parsed.kind === 'help') {
    const help = renderHelp(shared.registry, parsed.topic);
    const reply = finish(run.traceId, help.ok ? 'ok' : 'invalid', { ...help.reply, severity: help.ok ? 'info' : 'warning', visibility: 'ephemeral' });
    return { reply: await answer(shared, run, reply, auditDraft(run, shared.engine, reply.outcome, parsed, help.ok ? undefined : help.reply.title)) };
  }
  return { parsed };
}
