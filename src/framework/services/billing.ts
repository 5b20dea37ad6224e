import { UserError } from '../../user-error.js';
import type { CommandContext } from '../command-context.js';
import type { BillingService } from '../../billing/billing-service.js';

declare module '../command-context.js' {
  interface CommandServices {
    billing?: BillingService;
  }
}

/** The billing service of this process, for command handlers. */
export function billingOf(ctx: CommandContext): BillingService {
  const b = ctx.services?.billing;
  if (!b) throw new UserError('infra_invalid_state', 'Costs are not available in this process (it runs without the store costs live in).');
  return b;
}
