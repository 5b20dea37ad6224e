import { UserError } from '../framework/errors.js';
import type { CommandContext } from '../framework/command-context.js';
import type { HealthMonitor } from './health-monitor.js';

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
