/**
 * Errors a user should see as they are (bad input, unknown names, impossible changes). The engine throws them
 * and the command framework shows them; anything else is an internal error shown only as a trace id.
 */
export type UserErrorCode =
  | 'infra_unknown_command'
  | 'infra_usage'
  | 'infra_not_found'
  | 'infra_conflict'
  | 'infra_denied'
  | 'infra_invalid_state';

export class UserError extends Error {
  constructor(
    readonly code: UserErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export const usage = (message: string, hint?: string) => new UserError('infra_usage', message, hint);
export const notFound = (message: string, hint?: string) => new UserError('infra_not_found', message, hint);
