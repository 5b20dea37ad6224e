import { UserError } from '../../user-error.js';
import type { CommandContext, CommandServices } from '../command-context.js';
import type { HealthBatch } from '../../store/health-store.js';
import type { BatchWriter, ClusterRef, HealthMonitor } from '../../engine/health-monitor.js';

declare module '../command-context.js' {
  interface CommandServices {
    health?: HealthMonitor;
  }
}

/** The health monitor of this process, for command handlers. */
export function healthOf(ctx: CommandContext): HealthMonitor {
  const h = ctx.services?.health;
  if (!h) throw new UserError('infra_invalid_state', 'Health monitoring is not available in this process.');
  return h;
}

/**
 * A writer that commits a health decision inside the command's own unit of work (with its audit record and
 * invocation key): a duplicate delivery writes nothing, and a crash cannot leave an unaudited change. The
 * decision's rows are compare-and-set on the versions the handler read; if one changed meanwhile (a probe
 * resolved the alert being acked), the decision is made again on the fresh rows, never written back stale.
 */
export function commandWriter(ctx: CommandContext, opts?: { release?: boolean }): BatchWriter {
  const h = healthOf(ctx);
  return (decision) => {
    let committed = decision.batch;
    ctx.transactional(
      // `unit` joins the command's unit of work (a savepoint of it) through the shared database.
      () =>
        h.health.unit(async (attempt) => {
          committed = attempt === 1 ? decision.batch : await decision.redecide();
          await h.health.commit(committed, ctx.now().toISOString());
        }),
      () => h.afterCommand(opts, committed),
    );
  };
}

const isEmpty = (b: HealthBatch) => !Object.values(b).some((v) => Array.isArray(v) && v.length > 0);

/**
 * Runs a health decision for a command: `decide` adds its writes to the batch it is given (through the
 * engine's alert, incident and silence services) and returns what the reply shows. The writes commit with
 * the command; after a conflict `decide` runs again with `again` set, inside the unit of work.
 */
export async function decideWithCommand<T>(
  ctx: CommandContext,
  decide: (batch: HealthBatch, again: boolean) => Promise<T>,
  opts?: { release?: boolean },
): Promise<T> {
  const batch: HealthBatch = {};
  const result = await decide(batch, false);
  if (!isEmpty(batch)) {
    commandWriter(ctx, opts)({
      batch,
      redecide: async () => {
        const b: HealthBatch = {};
        await decide(b, true);
        return b;
      },
    });
  }
  return result;
}

/**
 * `clusterOf` for a subcommand: the cluster an option refers to, looked up through the health service, so
 * a role granted on that cluster suffices. Unknown ids give undefined (the role is then checked globally).
 */
export const clusterVia =
  <A>(ref: (args: A) => ClusterRef | undefined) =>
  async (args: A, lookup: { services?: CommandServices }): Promise<string | undefined> => {
    const r = ref(args);
    return r ? lookup.services?.health?.clusterOf(r) : undefined;
  };
