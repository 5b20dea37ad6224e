import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ReceiversConfig } from '../config/receivers-config-schema.js';
import type { ReceivedAlert, ReceiveOutcome } from '../engine/alerts/alert-manager.js';
import { errorBody, sendError } from './api-error.js';
import { answerClientError } from './answer-client-error.js';
import { alertmanagerWebhookSchema, grafanaWebhookSchema, mapReceivedAlerts } from './map-received-alerts.js';

export interface AlertReceiverRoutesOptions {
  /** Config `receivers`: credentials per receiver, label mapping, which alerts open incidents. */
  config: ReceiversConfig;
  /** Hands mapped alerts to the engine: the app's `health.receiveAlerts`. */
  receive: (alerts: readonly ReceivedAlert[]) => Promise<ReceiveOutcome>;
  /** Milliseconds since the epoch, for the age of a signed Grafana timestamp (tests pass a fixed clock). */
  now?: () => number;
}

/** A signed Grafana request older (or newer) than this is refused as a possible replay. */
const MAX_SIGNATURE_SKEW_MS = 5 * 60_000;
const GRAFANA_SIGNATURE = 'x-grafana-alerting-signature';
const GRAFANA_TIMESTAMP = 'x-grafana-alerting-timestamp';

const acceptedSchema = z.object({
  received: z.number().int().describe('Alerts in the webhook'),
  fired: z.number().int().describe('New firing alerts'),
  resolved: z.number().int().describe('Alerts resolved'),
  unchanged: z.number().int().describe('Already firing, or resolves of alerts not firing (retries)'),
});

const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string) =>
  reply.code(status).send({ error: { code, message, traceId: request.id } });

/** Constant-time comparison of two secrets of any length (hashed first so lengths do not leak). */
function sameSecret(given: string, expected: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(given), h(expected));
}

const bearer = (request: FastifyRequest) => /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();

/**
 * `POST /api/alerts/alertmanager` (Alertmanager's webhook, payload version 4) and `POST /api/alerts/grafana`
 * (Grafana alerting's webhook contact point, optionally HMAC-signed). Each receiver has its own credentials
 * from the config: a missing or wrong one is 401 before the body is even parsed, and nothing changes. The
 * alerts go through the engine's one alert path (grouping, silences, outbox, incidents). Answers 200 once
 * committed; a failure is a 5xx, which both senders retry — safe, since alerts are deduplicated by fingerprint.
 */
export const alertReceiverRoutes: FastifyPluginAsync<AlertReceiverRoutesOptions> = async (app, opts) => {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const now = opts.now ?? Date.now;
  const { alertmanager, grafana } = opts.config;

  // The raw body is needed for Grafana's HMAC (computed over the exact bytes sent).
  const raw = new WeakMap<FastifyRequest, string>();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    raw.set(request, body as string);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      const err = Object.assign(new Error('the body is not valid JSON'), { statusCode: 400, code: 'infra_invalid_json' });
      done(err, undefined);
    }
  });

  app.setErrorHandler((err, request, reply) => {
    // Client errors in the server's one shape and wording (a 415, a body naming the wrong field…).
    const answered = answerClientError(err as FastifyError, request, reply);
    if (answered) return answered;
    request.log.error({ err, traceId: request.id }, 'receiving alerts failed');
    // 503: the sender retries; nothing half-written (one transaction), and a retry is deduplicated.
    return sendError(request, reply, 503, 'infra_internal', `receiving the alerts failed; the sender will retry (ref ${request.id})`);
  });

  const requireToken = (token: string | undefined, name: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (!token) return;
    const given = bearer(request);
    if (!given || !sameSecret(given, token)) return refuse(request, reply, 401, 'infra_unauthorized', `missing or wrong bearer token for the ${name} receiver`);
  };

  const accepted = async (source: 'alertmanager' | 'grafana', body: z.infer<typeof alertmanagerWebhookSchema> | z.infer<typeof grafanaWebhookSchema>) => {
    const outcome = await opts.receive(mapReceivedAlerts(source, body, opts.config));
    return { received: body.alerts.length, ...outcome };
  };

  /** Both receivers: large bodies (a storm), the same answers. */
  const receiver = <B extends z.ZodType>(summary: string, body: B) => ({
    bodyLimit: 16 * 1024 * 1024,
    schema: { summary, body, response: { 200: acceptedSchema, 400: errorBody, 401: errorBody, 404: errorBody, 503: errorBody } },
  });

  typed.post('/api/alerts/alertmanager', {
    ...receiver('Alertmanager webhook receiver (payload version 4)', alertmanagerWebhookSchema),
    onRequest: async (request, reply) => {
      if (!alertmanager.token) return refuse(request, reply, 404, 'infra_receiver_off', 'the Alertmanager receiver is off: set receivers.alertmanager.token in the config');
      return requireToken(alertmanager.token, 'Alertmanager')(request, reply);
    },
  }, async (request) => accepted('alertmanager', request.body));

  typed.post('/api/alerts/grafana', {
    ...receiver('Grafana alerting webhook receiver (optionally HMAC-signed)', grafanaWebhookSchema),
    onRequest: async (request, reply) => {
      if (!grafana.token && !grafana.hmacSecret) return refuse(request, reply, 404, 'infra_receiver_off', 'the Grafana receiver is off: set receivers.grafana.token or receivers.grafana.hmacSecret in the config');
      return requireToken(grafana.token, 'Grafana')(request, reply);
    },
    // After parsing (the signature covers the exact body), before validation: a forged body is 401, not 400.
    preValidation: async (request, reply) => {
      if (!grafana.hmacSecret) return;
      const signature = String(request.headers[GRAFANA_SIGNATURE] ?? '');
      const timestamp = request.headers[GRAFANA_TIMESTAMP] === undefined ? undefined : String(request.headers[GRAFANA_TIMESTAMP]);
      const body = raw.get(request) ?? '';
      const expected = createHmac('sha256', grafana.hmacSecret).update(timestamp === undefined ? body : `${timestamp}:${body}`).digest('hex');
      if (!signature || !sameSecret(signature.toLowerCase(), expected)) return refuse(request, reply, 401, 'infra_bad_signature', `missing or wrong ${GRAFANA_SIGNATURE} (HMAC-SHA256 of the body with receivers.grafana.hmacSecret)`);
      if (timestamp !== undefined) {
        const at = Number(timestamp) * 1000;
        if (!Number.isFinite(at) || Math.abs(now() - at) > MAX_SIGNATURE_SKEW_MS) return refuse(request, reply, 401, 'infra_stale_signature', `${GRAFANA_TIMESTAMP} "${timestamp.slice(0, 20)}" is not within 5 minutes of now (a replay, or a clock off)`);
      }
    },
  }, async (request) => accepted('grafana', request.body));
};
