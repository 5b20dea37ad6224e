import { z } from 'zod';
import { clusterVia, decideWithCommand, healthOf } from '../src/framework/services/health.js';
import { incidentStats, writePostmortem } from '../src/engine/incidents/write-postmortem.js';
import { defineGroup, defineSubcommand, opt, TEXT_LIMITS } from '../src/framework/define-command.js';
import { usage } from '../src/user-error.js';
import type { CommandContext } from '../src/framework/command-context.js';
import type { HandlerReply } from '../src/framework/reply.js';
import type { Incident } from '../src/store/health-store.js';
import { formatDuration, parseDuration, shiftTime } from '../src/util/duration.js';
import { formatTime } from '../src/util/format-time.js';
import { incidentData, toIncidentData } from '../src/framework/render/health-data.js';
import { isoTime } from '../src/framework/render/state-data.js';
import { plural } from '../src/util/plural.js';

const one = z.object({ incident: incidentData });

const id = opt.incident();
const stamp = formatTime;
/** Incident commands are authorized on the incident's cluster (globally when it has none). */
const onIncident = clusterVia((a: { id: number }) => ({ incident: a.id }));

/** Runs an incident change that commits with the command's audit record (decided again on a conflict). */
const write = (ctx: CommandContext, fn: Parameters<typeof decideWithCommand<Incident>>[1]): Promise<Incident> => decideWithCommand(ctx, fn);

const done = (verb: string, inc: Incident): HandlerReply<z.output<typeof one>> & { data: z.output<typeof one> } => ({
  title: `INC-${inc.id} ${verb}`,
  text: `[SEV${inc.sev}] ${inc.title} · ${inc.status}`,
  severity: 'success',
  visibility: 'channel',
  data: { incident: toIncidentData(inc) },
});

export default defineGroup({
  name: 'incident',
  summary: 'Declare and run incidents: status, roles, updates, timeline, post-mortem and stats.',
  defaultSubcommand: 'list',
  subcommands: [
    defineSubcommand({
      name: 'declare',
      summary: 'Declare an incident; it gets a thread in the incident channel where updates are posted.',
      options: z.object({ title: opt.text('What is wrong', TEXT_LIMITS.title, 3), sev: z.number().int().min(1).max(4).describe('Severity 1 (worst) to 4'), cluster: opt.cluster('Affected cluster').optional() }),
      positionals: ['title'],
      role: 'operator',
      clusterOf: (a) => a.cluster,
      mutates: true,
      examples: ['incident declare "Checkout errors" --sev 2 --cluster api'], data: one,
      handler: async (a, ctx) => {
        if (a.cluster) ctx.engine.cluster(ctx.state, a.cluster);
        const inc = await write(ctx, (b) => healthOf(ctx).incidents.declare({ title: a.title, sev: a.sev, ...(a.cluster ? { cluster: a.cluster } : {}), actor: ctx.invocation.user.id }, b));
        return { ...done('declared', inc), title: `🔥 INC-${inc.id} declared`, hint: `incident ack ${inc.id}  |  incident assign ${inc.id} commander <user>` };
      },
    }),
    defineSubcommand({
      name: 'list',
      summary: 'Incidents, newest last; --open for those not resolved; --cluster needs the role only on that cluster.',
      options: z.object({ open: z.boolean().default(false).describe('Only incidents not yet resolved'), cluster: opt.cluster('Only incidents of this cluster').optional() }),
      role: 'viewer',
      clusterOf: (a) => a.cluster,
      listsClusters: true,
      examples: ['incident list --open', 'incident list --cluster api'],
      data: z.object({ incidents: z.array(incidentData) }),
      handler: async ({ open, cluster }, ctx) => {
        if (cluster) ctx.engine.cluster(ctx.state, cluster);
        const list = (await healthOf(ctx).incidents.list({ open, ...(cluster ? { cluster } : {}) })).filter((i) => ctx.canSee(i.cluster));
        return {
          title: plural(list.length, `${open ? 'open ' : ''}incident`),
          table: { columns: ['id', 'sev', 'status', 'cluster', 'title', 'declared', 'commander'], rows: list.map((i) => [`INC-${i.id}`, `SEV${i.sev}`, i.status, i.cluster ?? '-', i.title, stamp(i.declaredAt), i.commander ?? '-']) },
          data: { incidents: list.map(toIncidentData) },
        };
      },
    }),
    defineSubcommand({
      name: 'show',
      summary: 'One incident: status, roles and key times.',
      options: z.object({ id }),
      positionals: ['id'],
      role: 'viewer',
      clusterOf: onIncident,
      examples: ['incident show 3'], data: one,
      handler: async ({ id }, ctx) => {
        const i = await healthOf(ctx).incidents.get(id);
        return {
          title: `INC-${i.id} [SEV${i.sev}] ${i.title}`,
          severity: i.status === 'resolved' ? 'info' : 'warning',
          fields: [
            { name: 'Status', value: i.status },
            { name: 'Cluster', value: i.cluster ?? '-' },
            { name: 'Commander', value: i.commander ?? 'unassigned' },
            { name: 'Comms', value: i.comms ?? 'unassigned' },
            { name: 'Declared', value: `${stamp(i.declaredAt)} by ${i.declaredBy}` },
            { name: 'Acknowledged', value: i.ackedAt ? `${stamp(i.ackedAt)} by ${i.ackedBy}` : '-' },
            { name: 'Mitigated', value: stamp(i.mitigatedAt) },
            { name: 'Resolved', value: i.resolvedAt ? `${stamp(i.resolvedAt)}: ${i.summary ?? ''}` : '-' },
          ],
          data: { incident: toIncidentData(i) },
        };
      },
    }),
    defineSubcommand({
      name: 'ack', summary: 'Acknowledge: you are on it (and commander if none is assigned).', options: z.object({ id }), positionals: ['id'],
      role: 'operator', clusterOf: onIncident, mutates: true, examples: ['incident ack 3'], data: one,
      handler: async ({ id }, ctx) => done('acknowledged', await write(ctx, (b) => healthOf(ctx).incidents.ack(id, ctx.invocation.user.id, b))),
    }),
    defineSubcommand({
      name: 'update', summary: 'Post a status update to the incident thread and timeline.',
      options: z.object({ id, text: opt.text('The update', TEXT_LIMITS.message) }), positionals: ['id', 'text'],
      role: 'operator', clusterOf: onIncident, mutates: true, examples: ['incident update 3 "rolled back to v41, error rate falling"'], data: one,
      handler: async ({ id, text }, ctx) => done('updated', await write(ctx, (b) => healthOf(ctx).incidents.update(id, text, ctx.invocation.user.id, b))),
    }),
    defineSubcommand({
      name: 'assign', summary: 'Assign the commander or comms role.',
      options: z.object({ id, role: z.enum(['commander', 'comms']).describe('Role'), user: opt.user() }), positionals: ['id', 'role', 'user'],
      role: 'operator', clusterOf: onIncident, mutates: true, examples: ['incident assign 3 commander @alice'], data: one,
      handler: async ({ id, role, user }, ctx) => done(`${role} is ${user}`, await write(ctx, (b) => healthOf(ctx).incidents.assign(id, role, user, ctx.invocation.user.id, b))),
    }),
    defineSubcommand({
      name: 'severity', summary: 'Change the severity.',
      options: z.object({ id, sev: z.number().int().min(1).max(4).describe('Severity 1 to 4') }), positionals: ['id', 'sev'],
      role: 'operator', clusterOf: onIncident, mutates: true, examples: ['incident severity 3 1'], data: one,
      handler: async ({ id, sev }, ctx) => done(`is now SEV${sev}`, await write(ctx, (b) => healthOf(ctx).incidents.setSeverity(id, sev, ctx.invocation.user.id, b))),
    }),
    defineSubcommand({
      name: 'mitigate', summary: 'Impact is stopped; the cause may not be fixed yet.', options: z.object({ id }), positionals: ['id'],
      role: 'operator', clusterOf: onIncident, mutates: true, examples: ['incident mitigate 3'], data: one,
      handler: async ({ id }, ctx) => done('mitigated', await write(ctx, (b) => healthOf(ctx).incidents.mitigate(id, ctx.invocation.user.id, b))),
    }),
    defineSubcommand({
      name: 'resolve', summary: 'Resolve with a summary (it opens the post-mortem).',
      options: z.object({ id, summary: opt.text('What happened and what fixed it', TEXT_LIMITS.message, 3) }), positionals: ['id'],
      role: 'operator', clusterOf: onIncident, mutates: true, examples: ['incident resolve 3 --summary "bad deploy rolled back"'], data: one,
      handler: async ({ id, summary }, ctx) => ({ ...done('resolved', await write(ctx, (b) => healthOf(ctx).incidents.resolve(id, summary, ctx.invocation.user.id, b))), hint: `incident postmortem ${id}` }),
    }),
    defineSubcommand({
      name: 'reopen', summary: 'Reopen a resolved incident.', options: z.object({ id }), positionals: ['id'],
      role: 'operator', clusterOf: onIncident, mutates: true, examples: ['incident reopen 3'], data: one,
      handler: async ({ id }, ctx) => done('reopened', await write(ctx, (b) => healthOf(ctx).incidents.reopen(id, ctx.invocation.user.id, b))),
    }),
    defineSubcommand({
      name: 'timeline', summary: 'Everything that happened: status, roles, updates, alerts and control changes of its cluster.',
      options: z.object({ id }), positionals: ['id'], role: 'viewer', clusterOf: onIncident, examples: ['incident timeline 3'],
      data: z.object({ id: z.number().int(), entries: z.array(z.object({ at: isoTime, actor: z.string(), type: z.string(), text: z.string() })) }),
      handler: async ({ id }, ctx) => {
        const rows = await healthOf(ctx).incidents.timeline(id);
        return {
          title: `Timeline of INC-${id}`,
          table: { columns: ['time', 'actor', 'what'], rows: rows.map((t) => [stamp(t.at), t.actor, t.text]) },
          data: { id, entries: rows.map((t) => ({ at: t.at, actor: t.actor, type: t.type, text: t.text })) },
        };
      },
    }),
    defineSubcommand({
      name: 'postmortem', summary: 'A Markdown post-mortem draft, as a file attachment.',
      options: z.object({ id }), positionals: ['id'], role: 'viewer', clusterOf: onIncident, examples: ['incident postmortem 3'],
      data: z.object({ id: z.number().int(), filename: z.string(), timelineEntries: z.number().int(), markdown: z.string().describe('The draft itself') }),
      handler: async ({ id }, ctx) => {
        const h = healthOf(ctx);
        const inc = await h.incidents.get(id);
        const timeline = await h.incidents.timeline(id);
        const alerts = inc.cluster
          ? (await h.health.alerts({ cluster: inc.cluster })).filter((a) => a.firedAt <= (inc.resolvedAt ?? '9') && (a.resolvedAt ?? '9') >= inc.declaredAt)
          : [];
        const md = writePostmortem(inc, timeline, alerts, ctx.now());
        return {
          title: `📝 Post-mortem draft for INC-${id}`,
          text: `${timeline.length} timeline entries; fill in contributing factors and follow-ups.`,
          attachments: [{ filename: `INC-${id}-postmortem.md`, contentType: 'text/markdown', content: md }],
          data: { id, filename: `INC-${id}-postmortem.md`, timelineEntries: timeline.length, markdown: md },
        };
      },
    }),
    defineSubcommand({
      name: 'stats', summary: 'Count, MTTA and MTTR per cluster and severity.',
      options: z.object({ since: opt.duration('Period, e.g. 30d').default('30d'), cluster: opt.cluster('Only this cluster').optional() }),
      role: 'viewer', clusterOf: (a) => a.cluster, listsClusters: true, examples: ['incident stats --since 90d', 'incident stats --cluster api'],
      data: z.object({
        since: isoTime,
        total: z.number().int(),
        groups: z.array(z.object({ cluster: z.string().nullable(), sev: z.number().int(), count: z.number().int(), mttaMs: z.number().nullable(), mttrMs: z.number().nullable() })),
      }),
      handler: async ({ since, cluster }, ctx) => {
        const span = parseDuration(since);
        const start = span === undefined ? undefined : shiftTime(ctx.now(), -span);
        if (!start) throw usage(`--since takes a duration such as 30d, not "${since}".`);
        const list = (await healthOf(ctx).health.incidents({ since: start.toISOString(), ...(cluster ? { cluster } : {}) })).filter((i) => ctx.canSee(i.cluster));
        const f = (ms?: number) => (ms === undefined ? '-' : formatDuration(ms));
        const stats = incidentStats(list);
        return {
          title: `Incidents in the last ${since}: ${list.length}`,
          table: { columns: ['cluster', 'sev', 'count', 'MTTA', 'MTTR'], rows: stats.map((r) => [r.cluster, `SEV${r.sev}`, String(r.count), f(r.mttaMs), f(r.mttrMs)]) },
          data: {
            since: start.toISOString(),
            total: list.length,
            groups: stats.map((r) => ({ cluster: r.cluster === '-' ? null : r.cluster, sev: r.sev, count: r.count, mttaMs: r.mttaMs ?? null, mttrMs: r.mttrMs ?? null })),
          },
        };
      },
    }),
  ],
});
