import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { describeInputProblems, type InputIssue, type ProblemContext } from '../framework/describe-input-problems.js';
import { sendError, type HttpErrorCode } from './api-error.js';

/** What a route tells the error handler about its input (route `config`): the command and its options. */
export interface InputRouteConfig {
  command?: string;
  inputOptions?: ProblemContext['options'];
}

/** The most problems listed in one message; a body wrong everywhere (a webhook of another sender) says how many more. */
const MAX_LISTED = 5;

/**
 * The answer to a request the caller got wrong (4xx), in the API's one error shape and the framework's
 * wording (describeInputProblems): every route of the server, the alert receivers included. Returns
 * undefined for server errors, which each caller answers in its own way (500, or 503 so a sender retries).
 */
export function answerClientError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const config = req.routeOptions.config as InputRouteConfig;
    const where = err.validationContext ?? 'body';
    const input = where === 'querystring' ? req.query : where === 'params' ? req.params : where === 'headers' ? req.headers : req.body;
    const issues: InputIssue[] = err.validation.map((v) => ({
      ...(v.params as Partial<InputIssue>),
      code: v.keyword,
      path: v.instancePath.split('/').filter(Boolean),
      message: v.message ?? 'invalid',
    }));
    const options = where === 'body' || where === 'querystring' ? config.inputOptions : undefined;
    const problems = describeInputProblems(issues, { ...(options ? { options } : {}), input, label: (name) => name });
    const more = problems.length > MAX_LISTED ? ` (and ${problems.length - MAX_LISTED} more problems)` : '';
    return sendError(req, reply, 400, 'infra_usage', `${config.command ? `${config.command}: ` : ''}${problems.slice(0, MAX_LISTED).join(' ')}${more}`);
  }
  const status = err.statusCode ?? 500;
  if (status >= 500) return undefined;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(req, reply, 413, 'infra_body_too_large', `The request body is larger than ${req.routeOptions.bodyLimit ?? 'the limit of'} bytes.`);
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(req, reply, 415, 'infra_unsupported_media_type', 'Send the body as application/json.');
  // A parser or hook of ours (infra_invalid_json…) keeps its code; fastify's own are usage errors.
  return sendError(req, reply, status, (err.code?.startsWith('infra_') ? err.code : 'infra_usage') as HttpErrorCode, err.message);
}
