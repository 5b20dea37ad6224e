import type { HandlerReply, ReplyButton } from '../framework/reply.js';
import { FINISHED, type RunRecord } from '../store/runbook-run-store.js';
import { formatDuration } from '../util/duration.js';

const ICON: Record<string, string> = { pending: '⏳', running: '▶️', succeeded: '✅', failed: '❌', skipped: '⏭️', cancelled: '🚫' };
const HEAD: Record<string, string> = { queued: '🕐', running: '▶️', waiting_approval: '✋', succeeded: '✅', failed: '❌', cancelled: '🚫', interrupted: '⚠️' };

export const describeRun = (r: RunRecord) => `${r.runbook} ${r.service}${r.params.version ? ` ${r.params.version}` : ''} → ${r.env}`;

/** Output lines shown in the message itself; the whole output is attached once the run ends. */
const TAIL_LINES = 15;

/** The run's message: step n of m, elapsed time, each step, and at the end the outcome and the output's tail. */
export function renderRun(run: RunRecord, now: Date, buttons: ReplyButton[] = []): HandlerReply {
  const done = FINISHED.includes(run.status);
  const current = run.steps.findIndex((s) => s.status === 'running');
  const at = current >= 0 ? current + 1 : run.steps.filter((s) => s.status !== 'pending' && s.status !== 'skipped').length;
  const elapsed = run.startedAt ? formatDuration((done && run.finishedAt ? Date.parse(run.finishedAt) : now.getTime()) - Date.parse(run.startedAt)) : '0s';
  const state = run.status.replace('_', ' ');
  const title = `${HEAD[run.status]} ${describeRun(run)}: ${state}${done ? '' : ` (step ${Math.max(1, at)} of ${run.steps.length}, ${elapsed})`}`;
  const lines = run.steps.map((s, i) => `${ICON[s.status]} ${i + 1}. ${s.name}${s.detail ? ` — ${s.detail}` : ''}`);
  const tail = run.output.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
  const text = [
    `Run ${run.id} by ${run.requestedName}${run.forced ? ' (forced)' : ''}${run.parentId ? `, after ${run.parentId}` : ''}${done ? ` · took ${elapsed}` : ''}`,
    ...lines,
    ...(run.error ? [`Error: ${run.error}`] : []),
    ...(done && tail ? ['```', tail, '```'] : []),
  ].join('\n');
  return {
    title,
    text,
    severity: run.status === 'succeeded' ? 'success' : run.status === 'failed' || run.status === 'interrupted' ? 'critical' : run.status === 'cancelled' ? 'warning' : 'info',
    visibility: 'channel',
    ...(buttons.length ? { buttons } : {}),
    ...(done && run.output ? { attachments: [{ filename: `${run.id}-output.txt`, contentType: 'text/plain', content: run.output }] } : {}),
    hint: done ? `runs show ${run.id}` : `runs cancel ${run.id}`,
  };
}
