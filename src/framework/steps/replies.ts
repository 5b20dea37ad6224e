import type { UserError } from '../../user-error.js';
import type { HandlerReply, Outcome, Reply, ReplyErrorCode } from '../reply.js';

const ERROR_CODES: Partial<Record<Outcome, ReplyErrorCode>> = {
  denied: 'infra_denied',
  invalid: 'infra_usage',
  failed: 'infra_internal',
  confirm: 'infra_confirmation_required',
};

/** A handler's reply made whole: outcome, trace id, time, and the error code of anything but success. */
export function finish(traceId: string, outcome: Outcome, r: HandlerReply, code?: ReplyErrorCode): Reply {
  const failed = outcome === 'denied' || outcome === 'invalid' || outcome === 'failed' || outcome === 'confirm';
  const errorCode = code ?? ERROR_CODES[outcome];
  return {
    severity: 'info',
    visibility: failed ? 'ephemeral' : 'channel',
    ...r,
    outcome,
    traceId,
    time: new Date().toISOString(),
    ...(errorCode ? { error: { code: errorCode, message: r.text ?? r.title } } : {}),
  };
}

export function userErrorReply(traceId: string, err: UserError): Reply {
  return finish(traceId, 'invalid', {
    title: err.code === 'infra_not_found' ? 'Not found' : err.code === 'infra_unknown_command' ? 'Unknown command' : 'Cannot do that',
    text: err.message,
    severity: 'warning',
    ...(err.hint ? { hint: err.hint } : {}),
  }, err.code);
}

export function internalError(traceId: string): Reply {
  return finish(traceId, 'failed', {
    title: 'Internal error',
    text: `Something went wrong on our side and nothing was changed. Quote ref ${traceId} when reporting it.`,
    severity: 'critical',
  });
}
