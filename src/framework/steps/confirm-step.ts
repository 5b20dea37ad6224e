import type { ControlState } from '../../engine/control-state.js';
import { UserError } from '../../user-error.js';
import { describeOptions } from '../describe-options.js';
import type { Reply } from '../reply.js';
import { confirmationButtons } from './buttons.js';
import { finish, userErrorReply } from './replies.js';
import type { Parsed, PipelineShared, Run } from './run-context.js';

/**
 * Step 3: a typo'd cluster is refused, and a dangerous action asks for confirmation (with its live impact)
 * unless the user already confirmed. Returns the reply that ends the invocation here, or undefined to go on.
 */
export async function confirmStep(
  shared: PipelineShared,
  run: Run,
  parsed: Parsed,
  state: ControlState,
  cluster: string | undefined,
): Promise<{ reply: Reply; outcome: 'invalid' | 'confirm'; error?: string } | undefined> {
  const { inv } = run;
  // A typo'd cluster is refused before a confirmation is asked for something that cannot happen: the
  // cluster options of a changing command, and the cluster a dangerous one acts on (a schedule's command's).
  const danger = parsed.sub.dangerous?.(parsed.args);
  try {
    const named = parsed.sub.mutates || parsed.sub.dangerous ? clustersNamed(parsed) : [];
    for (const name of danger && cluster !== undefined ? [...named, cluster] : named) shared.engine.cluster(state, name);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { reply: userErrorReply(run.traceId, err), outcome: 'invalid', error: err.message };
  }
  if (!danger || inv.confirmed || parsed.confirmed) return undefined;

  const command = inv.text.trim().replace(/^\/?infra\s+/i, '');
  const [confirm, cancel] = await confirmationButtons(shared, inv, command);
  const impact = await parsed.sub.impact?.(parsed.args, shared.services ? { services: shared.services } : {}).catch((err: unknown) => {
    run.log.warn({ err }, 'impact of a dangerous action unknown');
    return undefined;
  });
  const reply = finish(run.traceId, 'confirm', {
    title: 'Please confirm',
    text: `${danger}${impact ? `\n${impact}` : ''}\nThis is a dangerous action.`,
    severity: 'warning',
    buttons: [confirm, cancel],
    hint: `${command} --yes`,
  });
  return { reply, outcome: 'confirm' };
}

/** The values of a command's cluster options (not the other words they accept, such as "global"). */
function clustersNamed(parsed: Parsed): string[] {
  const args = parsed.args as Record<string, unknown>;
  return describeOptions(parsed.sub).flatMap((o) => {
    const value = args[o.name];
    return o.infraType === 'cluster' && typeof value === 'string' && !o.alsoAccepts?.includes(value) ? [value] : [];
  });
}
