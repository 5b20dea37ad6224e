import { z } from 'zod';
import { authorize } from '../../auth/authorize.js';
import type { CommandContext, CommandServices } from '../command-context.js';
import type { HandlerReply } from '../reply.js';
import { UserError, usage } from '../../user-error.js';
import { openWindow } from '../../engine/alerts/maintenance-windows.js';
import { describeRun, renderRun } from '../../runbooks/render-run.js';
import { describeStep } from '../../engine/runbooks/fill-params.js';
import type { RunbookService } from '../../runbooks/runbook-service.js';
import type { RunRecord } from '../../store/runbook-run-store.js';

declare module '../command-context.js' {
  interface CommandServices {
    runbooks?: RunbookService;
  }
}

export function runbooksOf(ctx: Pick<CommandContext, 'services'>): RunbookService {
  const r = ctx.services?.runbooks;
  if (!r) throw new UserError('infra_invalid_state', 'Runbooks are not available in this process.');
  return r;
}

/** `clusterOf` for commands naming a service: roles granted on its cluster suffice. */
export const serviceCluster = (args: { service?: string }, lookup: { services?: CommandServices }) =>
  args.service ? lookup.services?.runbooks?.config.services[args.service]?.cluster : undefined;

/** `--param "version=1.2 region=eu"`: space-separated key=value pairs. */
export function parseParams(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usage(`--param takes key=value pairs, not "${pair}".`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Why runs on this cluster are refused right now (kill-switch, disabled, maintenance), if they are. */
async function refusal(ctx: CommandContext, cluster: string): Promise<string | undefined> {
  if (ctx.state.killSwitch.on) return 'the global kill-switch is on';
  if (ctx.state.clusters[cluster]?.enabled === false) return `cluster ${cluster} is disabled`;
  const now = ctx.now();
  const health = ctx.services?.health;
  if (health) {
    const open = await health.health.silences({ activeAt: now.toISOString(), kind: 'maintenance' });
    if (open.some((s) => s.target === cluster)) return `cluster ${cluster} is in maintenance`;
  }
  if ((ctx.engine.config.clusters[cluster]?.maintenance ?? []).some((w) => openWindow(w, now))) return `cluster ${cluster} is in a maintenance window`;
  return undefined;
}

export const runData = z.object({
  id: z.string(),
  service: z.string(),
  env: z.string(),
  runbook: z.string(),
  status: z.string().describe('queued, running, waiting_approval, succeeded, failed, cancelled or interrupted'),
  params: z.record(z.string(), z.string()),
  requestedBy: z.string(),
  forced: z.boolean(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  steps: z.array(z.object({ name: z.string(), type: z.string(), status: z.string() })),
});
export const toRunData = (r: RunRecord): z.infer<typeof runData> => ({
  id: r.id, service: r.service, env: r.env, runbook: r.runbook, status: r.status, params: r.params, requestedBy: r.requestedBy,
  forced: r.forced, createdAt: r.createdAt, finishedAt: r.finishedAt ?? null, error: r.error ?? null,
  steps: r.steps.map((s) => ({ name: s.name, type: s.type, status: s.status })),
});

export const startData = z.object({
  dryRun: z.boolean(),
  existing: z.boolean().describe('true when this request repeated one that already started the run'),
  run: runData.nullable(),
  plan: z.array(z.string()).describe('The steps, parameters filled in'),
});

/** The shared body of deploy, rollback, test and `runbook run`. */
export async function startRunbook(
  ctx: CommandContext,
  a: { service: string; runbook: string; params: Record<string, string>; env?: string | undefined; dryRun?: boolean | undefined; force?: boolean | undefined },
): Promise<HandlerReply<z.infer<typeof startData>> & { data: z.infer<typeof startData> }> {
  const runbooks = runbooksOf(ctx);
  const { env, params, steps } = runbooks.plan({ service: a.service, runbook: a.runbook, params: a.params, ...(a.env ? { env: a.env } : {}) });
  const plan = steps.map((s, i) => runbooks.redact(a.service, `${i + 1}. ${describeStep(s)}`));
  const cluster = runbooks.service(a.service).cluster;
  const what = `${a.runbook} ${a.service}${params.version ? ` ${params.version}` : ''} → ${env}`;
  if (a.dryRun) {
    return { title: `Dry run: ${what}`, text: `Nothing was run. These steps would run:\n${plan.join('\n')}`, data: { dryRun: true, existing: false, run: null, plan } };
  }
  const refused = await refusal(ctx, cluster);
  if (refused) {
    if (!a.force) throw new UserError('infra_invalid_state', `Refused: ${refused}. An admin may override with --force (audited).`);
    const p = { id: ctx.invocation.user.id, groups: ctx.invocation.user.groups ?? [] };
    if (!authorize(p, 'admin', ctx.roles, cluster).ok) throw new UserError('infra_denied', `Refused: ${refused}; only an admin may --force it.`);
  }
  const { run, existing } = await runbooks.start({
    service: a.service, runbook: a.runbook, params, env,
    user: ctx.invocation.user, platform: ctx.invocation.platform,
    ...(ctx.invocation.channel ? { channel: ctx.invocation.channel } : {}),
    traceId: ctx.invocation.traceId ?? ctx.invocation.id,
    idempotencyKey: `${ctx.invocation.platform}:${ctx.invocation.id}`,
    forced: Boolean(refused && a.force),
  });
  const cancel = await ctx.button('Cancel', `runs cancel ${run.id}`, { style: 'danger' });
  const queued = runbooks.queue?.kind === 'in-process' ? ' (in this process: no Redis configured)' : '';
  return {
    title: `${existing ? 'Already started' : '🚀 Started'}: ${describeRun(run)}`,
    text: `Run ${run.id}${refused ? ` — forced past: ${refused}` : ''}${queued}. Progress is posted in this channel.\n${plan.join('\n')}`,
    visibility: 'channel',
    severity: refused ? 'warning' : 'success',
    buttons: [cancel],
    hint: `runs show ${run.id}`,
    data: { dryRun: false, existing, run: toRunData(run), plan },
  };
}

export const showRun = (run: RunRecord, now: Date) => renderRun(run, now);
