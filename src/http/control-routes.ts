import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SubcommandDef } from '../framework/define-command.js';
import { describeOptions, type OptionDescriptor } from '../framework/describe-options.js';
import type { Registry } from '../framework/registry.js';
import { errorBody } from './api-error.js';
import type { InputRouteConfig } from './answer-client-error.js';
import { runCommand, type RunDeps } from './run-command.js';

/** A route that runs one command: path parameters name options, the rest come from the body (POST) or query (GET). */
interface CommandRoute {
  method: 'GET' | 'POST';
  url: string;
  command: string;
  /** Path parameter → option name. */
  params?: Record<string, string>;
  tag: 'control' | 'health' | 'audit' | 'incidents';
}

export const COMMAND_ROUTES: readonly CommandRoute[] = [
  { method: 'GET', url: '/api/control', command: 'status', tag: 'control' },
  { method: 'POST', url: '/api/control/kill-switch/enable', command: 'killswitch on', tag: 'control' },
  { method: 'POST', url: '/api/control/kill-switch/disable', command: 'killswitch off', tag: 'control' },
  { method: 'POST', url: '/api/control/cluster/:clusterId/enable', command: 'cluster enable', params: { clusterId: 'cluster' }, tag: 'control' },
  { method: 'POST', url: '/api/control/cluster/:clusterId/disable', command: 'cluster disable', params: { clusterId: 'cluster' }, tag: 'control' },
  { method: 'GET', url: '/api/control/cluster/:clusterId/rate-limit', command: 'ratelimit show', params: { clusterId: 'cluster' }, tag: 'control' },
  { method: 'POST', url: '/api/control/cluster/:clusterId/rate-limit', command: 'ratelimit set', params: { clusterId: 'cluster' }, tag: 'control' },
  { method: 'POST', url: '/api/control/cluster/:clusterId/circuit-breaker/trip', command: 'breaker trip', params: { clusterId: 'cluster' }, tag: 'control' },
  { method: 'POST', url: '/api/control/cluster/:clusterId/circuit-breaker/reset', command: 'breaker reset', params: { clusterId: 'cluster' }, tag: 'control' },
  { method: 'GET', url: '/api/health/:clusterId', command: 'health show', params: { clusterId: 'cluster' }, tag: 'health' },
  { method: 'GET', url: '/api/audit', command: 'audit search', tag: 'audit' },
  { method: 'GET', url: '/api/incidents', command: 'incident list', tag: 'incidents' },
  { method: 'GET', url: '/api/incidents/:incidentId', command: 'incident show', params: { incidentId: 'id' }, tag: 'incidents' },
];

/** Path and query values arrive as text: typed here for the docs, validated by the command's own schema. */
function textParam(o: OptionDescriptor) {
  const base = o.type === 'boolean' ? z.enum(['true', 'false']) : o.type === 'integer' ? z.string().regex(/^\d+$/, 'expected a whole number') : z.string();
  return base.describe(o.description);
}

const fromText = (o: OptionDescriptor, v: string): unknown => (o.type === 'boolean' ? v === 'true' : o.type === 'integer' || o.type === 'number' ? Number(v) : v);

function find(registry: Registry, name: string): SubcommandDef {
  const [groupName = '', subName] = name.split(' ');
  const group = registry.group(groupName);
  const def = group?.subcommands.find((s) => s.name === (subName ?? group.defaultSubcommand));
  if (!def) throw new Error(`HTTP route for unknown command "${name}"`);
  return def;
}

/** The control, health, audit and incident routes: each one command of the registry, with its schemas. */
export async function controlRoutes(app: FastifyInstance, deps: RunDeps & { registry: Registry }): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  /**
   * The options as sent, before fastify's validation applies defaults and transforms: the command's own
   * schema parses them once more in the pipeline, which must see the input, not an already parsed output.
   */
  const sent = new WeakMap<object, Record<string, unknown>>();
  api.addHook('preValidation', async (req) => {
    // A POST without a body (curl -X POST) means "no options", not a malformed request.
    if (req.method === 'POST' && (req.body === undefined || req.body === null)) req.body = {};
    const input = req.method === 'POST' ? req.body : req.query;
    if (input && typeof input === 'object') sent.set(req, { ...(input as Record<string, unknown>) });
  });
  for (const route of COMMAND_ROUTES) {
    const sub = find(deps.registry, route.command);
    const options = describeOptions(sub);
    const byName = new Map(options.map((o) => [o.name, o]));
    const paramOf = route.params ?? {};
    const pathOptions = new Set(Object.values(paramOf));
    const rest = options.filter((o) => !pathOptions.has(o.name));
    const params = Object.keys(paramOf).length
      ? z.object(Object.fromEntries(Object.entries(paramOf).map(([p, opt]) => [p, textParam(byName.get(opt)!)])))
      : undefined;
    const shape = sub.options.shape as Record<string, z.ZodType>;
    const bodyShape: Record<string, z.ZodType> = Object.fromEntries(rest.map((o) => [o.name, shape[o.name]!]));
    if (sub.dangerous) bodyShape.confirm = z.boolean().optional().describe('Must be true: this is a dangerous action (without it: 428 and nothing changes)');
    const body = route.method === 'POST' ? z.object(bodyShape).strict() : undefined;
    const querystring = route.method === 'GET' && rest.length ? z.object(Object.fromEntries(rest.map((o) => [o.name, textParam(o).optional()]))).strict() : undefined;
    const headers = z.looseObject({
      'x-trace-id': z.string().optional().describe('Your trace id (1–64 of A-Z a-z 0-9 . _ : -); kept, returned and audited, else one is generated'),
      ...(route.method === 'POST'
        ? { 'idempotency-key': z.string().optional().describe('Same key and body within 24 h: the stored answer is replayed; another body: 422') }
        : {}),
    });
    const needs = `Needs the ${sub.role} role${sub.clusterOf ? ' on the cluster (or globally)' : ' globally'}.`;
    const confirmOption = { name: 'confirm', type: 'boolean' as const, description: 'true to confirm a dangerous action' };
    api.route({
      method: route.method,
      url: route.url,
      // For the error handler: problems with the body or query are told in the command's words (answerClientError).
      config: { command: route.command, inputOptions: sub.dangerous ? [...rest, confirmOption] : rest } satisfies InputRouteConfig,
      schema: {
        tags: [route.tag],
        summary: sub.summary,
        description: `Runs \`${route.command}\` through the command pipeline (audited as platform http). ${needs}${sub.dangerous ? ' Dangerous: send `"confirm": true`.' : ''}${route.method === 'POST' ? ' Honours `Idempotency-Key`.' : ''}`,
        headers,
        ...(params ? { params } : {}),
        ...(querystring ? { querystring } : {}),
        ...(body ? { body: rest.some((o) => o.required) ? body : body.optional() } : {}),
        response: {
          200: z.object({ data: sub.data, traceId: z.string() }),
          ...Object.fromEntries([400, 401, 403, 404, 409, 413, 422, 428, 429, 500, 503].map((s) => [s, errorBody])),
        },
      },
      handler: async (req, res) => {
        const args: Record<string, unknown> = {};
        for (const [p, opt] of Object.entries(paramOf)) args[opt] = fromText(byName.get(opt)!, (req.params as Record<string, string>)[p]!);
        let confirmed = false;
        for (const [k, v] of Object.entries(sent.get(req) ?? {})) {
          if (k === 'confirm') confirmed = v === true;
          else if (v !== undefined) args[k] = route.method === 'GET' ? fromText(byName.get(k)!, String(v)) : v;
        }
        return runCommand(deps, req, res, { name: route.command, args, positional: sub.positionals ?? [], confirmed });
      },
    });
  }
}
