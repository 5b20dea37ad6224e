import type { Logger } from 'pino';
import type { ChatSink } from '../chat/chat-sink.js';
import type { Reply, ReplyButton } from '../framework/reply.js';
import { FINISHED, getRun, mutateRun, type RunRecord } from '../store/runbook-run-store.js';
import type { SqlDb } from '../store/db/sql-db.js';
import { shortId } from '../util/ids.js';
import type { Clock } from '../engine/engine.js';
import { renderRun } from './render-run.js';

/**
 * Keeps each run's chat message current: posted when the run starts, edited as steps start and finish, and
 * at the end with the outcome, output tail and full output. One update at a time per run, coalesced: a burst
 * of changes becomes one edit of the latest state.
 */
export function createRunMessenger(opts: {
  db: SqlDb;
  clock: Clock;
  log: Logger;
  button(label: string, command: string, createdBy: string): Promise<ReplyButton>;
}) {
  const sinks = new Map<string, ChatSink>();
  const inFlight = new Map<string, { again: boolean; done: Promise<void> }>();
  // One stored action per run and button, not one per edit.
  const buttons = new Map<string, ReplyButton>();
  const button = async (run: RunRecord, label: string, command: string) => {
    const key = `${run.id}:${label}`;
    let b = buttons.get(key);
    if (!b) buttons.set(key, (b = await opts.button(label, command, run.requestedBy)));
    return b;
  };

  async function sync(runId: string): Promise<void> {
    if (sinks.size === 0) return; // a worker-only process: the bot processes edit the messages
    const run = await getRun(opts.db, runId);
    if (!run?.channel) return;
    const sink = sinks.get(run.platform);
    if (!sink) return;
    const done = FINISHED.includes(run.status);
    const shown = done
      ? []
      : [...(run.status === 'waiting_approval' ? [await button(run, 'Approve', `runs approve ${run.id}`)] : []), await button(run, 'Cancel', `runs cancel ${run.id}`)];
    if (done) {
      buttons.delete(`${run.id}:Approve`);
      buttons.delete(`${run.id}:Cancel`);
    }
    const reply: Reply = { severity: 'info', ...renderRun(run, opts.clock.now(), shown), visibility: 'channel', outcome: 'ok', traceId: run.traceId, time: opts.clock.now().toISOString() };
    if (run.message) {
      await sink.update(run.message, reply);
      return;
    }
    const posted = await sink.post(run.channel, reply);
    await mutateRun(opts.db, runId, (r) => (r.message ? undefined : { message: posted }));
  }

  function changed(runId: string): void {
    const current = inFlight.get(runId);
    if (current) {
      current.again = true;
      return;
    }
    const entry = { again: false, done: Promise.resolve() };
    inFlight.set(runId, entry);
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          await sync(runId).catch((err: unknown) => opts.log.warn({ err, run: runId, ref: shortId() }, 'could not update the run message'));
        } while (entry.again);
      } finally {
        inFlight.delete(runId);
      }
    })();
  }

  return {
    addSink: (sink: ChatSink) => void sinks.set(sink.platform, sink),
    changed,
    changedRun: (run: RunRecord) => changed(run.id),
    /** Resolves when no update is in flight (tests, shutdown). */
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight.values()].map((e) => e.done));
    },
  };
}
export type RunMessenger = ReturnType<typeof createRunMessenger>;
