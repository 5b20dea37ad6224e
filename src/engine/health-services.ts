import { UserError } from '../user-error.js';
import type { CommandContext, CommandServices } from '../framework/command-context.js';
import type { HealthBatch } from '../store/health-store.js';
import type { BatchWriter, ClusterRef, HealthMonitor } from './health-monitor.js';

declare module '../framework/command-context.js' {
  interface CommandServices {
    health?: HealthMonitor;
  }
}

/** The health monitor of this process, for command handlers. */
export function healthOf(ctx: CommandContext): HealthMonitor {
  const h = ctx.services?.health;
  if (!h) throw new UserError('infra_invalid_state', 'Health monitoring is not available in this process (it needs the SQLite store).');
  return h;
}

/**
 * A writer that commits a health batch inside the command's own transaction (with its audit record and
 * invocation key): a duplicate delivery writes nothing, and a crash cannot leave an unaudited change.
 */
export function commandWriter(ctx: CommandContext, opts?: { release?: boolean }): BatchWriter {
  const h = healthOf(ctx);
  return (batch, at) =>
    ctx.transactional(
      // TODO(health): the health store's writes on `tx`; until it is ported they run on the SQLite
      // connection that holds this unit of work's transaction.
      async () => h.health.commitSync(batch, at),
      () => h.afterCommand(opts),
    );
}

/** Registers `batch` to commit with the command (see commandWriter); a no-op when it is empty. */
export function commitWithCommand(ctx: CommandContext, batch: HealthBatch, opts?: { release?: boolean }): void {
  if (Object.values(batch).some((v) => Array.isArray(v) && v.length > 0)) commandWriter(ctx, opts)(batch, ctx.now().toISOString());
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
