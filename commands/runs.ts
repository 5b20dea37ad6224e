import { z } from 'zod';
import { authorize } from '../src/auth/authorize.js';
import { defineGroup, defineSubcommand } from '../src/framework/define-command.js';
import { runData, runbooksOf, toRunData } from '../src/framework/services/runbooks.js';
import { renderRun } from '../src/runbooks/render-run.js';
import { notFound, UserError } from '../src/user-error.js';
import type { CommandServices } from '../src/framework/command-context.js';

const runId = () => z.string().regex(/^run-[a-z2-9]{8}$/, 'run ids look like run-ab23cd45').describe('Run id').meta({ infraType: 'id' });
const STATUSES = ['queued', 'running', 'waiting_approval', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
const runCluster = async (a: { id: string }, { services }: { services?: CommandServices }) => (await services?.runbooks?.get(a.id))?.cluster;

export default defineGroup({
  name: 'runs',
  summary: 'Runbook runs: recent ones, one in detail, cancel or approve one.',
  defaultSubcommand: 'list',
  subcommands: [
    defineSubcommand({
      name: 'list',
      summary: 'Recent runs, newest first.',
      options: z.object({ service: z.string().max(64).optional().describe('Only this service'), status: z.enum(STATUSES).optional().describe('Only runs in this state') }),
      role: 'viewer',
      listsClusters: true,
      examples: ['runs', 'runs --service shop --status failed'],
      data: z.object({ runs: z.array(runData) }),
      handler: async (a, ctx) => {
        const runs = (await runbooksOf(ctx).list({ ...(a.service ? { service: a.service } : {}), ...(a.status ? { status: a.status } : {}), limit: 20 })).filter((r) => ctx.canSee(r.cluster));
        return {
          title: 'Runbook runs',
          ...(runs.length
            ? { table: { columns: ['id', 'what', 'status', 'by', 'started'], rows: runs.map((r) => [r.id, `${r.runbook} ${r.service}${r.params.version ? ` ${r.params.version}` : ''} → ${r.env}`, r.status, r.requestedName, r.createdAt.slice(0, 16).replace('T', ' ')]) } }
            : { text: 'No runs yet.' }),
          data: { runs: runs.map(toRunData) },
        };
      },
    }),
    defineSubcommand({
      name: 'show',
      summary: 'One run: its steps, outcome and output (attached in full).',
      options: z.object({ id: runId() }),
      positionals: ['id'],
      role: 'viewer',
      clusterOf: runCluster,
      examples: ['runs show run-ab23cd45'],
      data: z.object({ run: runData, output: z.string() }),
      handler: async (a, ctx) => {
        const run = await runbooksOf(ctx).get(a.id);
        if (!run) throw notFound(`No run ${a.id}; see \`runs\`.`);
        const r = renderRun(run, ctx.now());
        return { ...r, visibility: 'ephemeral', ...(run.output && !r.attachments ? { attachments: [{ filename: `${run.id}-output.txt`, contentType: 'text/plain', content: run.output }] } : {}), data: { run: toRunData(run), output: run.output } };
      },
    }),
    defineSubcommand({
      name: 'cancel',
      summary: 'Cancel a queued or running run (the running step is stopped).',
      options: z.object({ id: runId() }),
      positionals: ['id'],
      role: 'operator',
      clusterOf: runCluster,
      examples: ['runs cancel run-ab23cd45'],
      data: z.object({ run: runData }),
      handler: async (a, ctx) => {
        const run = await runbooksOf(ctx).cancel(a.id, ctx.invocation.user.id);
        return { title: run.status === 'cancelled' ? `🚫 Run ${run.id} cancelled` : `🚫 Cancelling run ${run.id}`, text: run.status === 'cancelled' ? 'It had not started; nothing ran.' : 'The running step is being stopped.', visibility: 'channel', severity: 'warning', data: { run: toRunData(run) } };
      },
    }),
    defineSubcommand({
      name: 'approve',
      summary: 'Approve a run waiting at an approval step (not your own).',
      options: z.object({ id: runId() }),
      positionals: ['id'],
      role: 'operator',
      clusterOf: runCluster,
      examples: ['runs approve run-ab23cd45'],
      data: z.object({ run: runData }),
      handler: async (a, ctx) => {
        const runbooks = runbooksOf(ctx);
        const run = await runbooks.get(a.id);
        if (!run) throw notFound(`No run ${a.id}; see \`runs\`.`);
        const step = runbooks.plan({ service: run.service, runbook: run.runbook, params: run.params, env: run.env }).steps.find((s, i) => s.type === 'approve' && run.steps[i]?.status === 'running');
        const role = step?.type === 'approve' ? step.role : 'operator';
        const who = { id: ctx.invocation.user.id, groups: ctx.invocation.user.groups ?? [] };
        const decision = authorize(who, role, ctx.roles, run.cluster);
        if (!decision.ok) throw new UserError('infra_denied', `Approving this run ${decision.message.charAt(0).toLowerCase()}${decision.message.slice(1)}`);
        const approved = await runbooks.approve(a.id, ctx.invocation.user.id);
        return { title: `✅ Run ${approved.id} approved`, text: `${ctx.invocation.user.displayName} approved; the run goes on.`, visibility: 'channel', severity: 'success', data: { run: toRunData(approved) } };
      },
    }),
  ],
});
