import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Clock } from '../engine/engine.js';
import { describeEvent } from '../engine/control-events.js';
import { findSupersedingChange } from '../engine/schedules/find-superseding-change.js';
import type { Timers } from '../engine/timers.js';
import type { Pipeline } from '../framework/pipeline.js';
import type { InvokingUser } from '../framework/invocation.js';
import type { Reply } from '../framework/reply.js';
import type { Schedule, ScheduleStatus, ScheduleStore } from '../store/schedule-store.js';
import type { Store } from '../store/store.js';
import type { SqlExecutor } from '../store/db/sql-db.js';
import { enqueueOutbox } from '../store/outbox-store.js';
import { formatDuration } from '../util/duration.js';
import { formatTime } from '../util/format-time.js';
import { shortId } from '../util/ids.js';
import { createCoalescedRound } from '../util/create-coalesced-round.js';
import { formatInZone } from '../util/format-in-zone.js';

export interface ScheduleRunner {
  /** Fires every schedule whose time has come; resolves with how many fire times were handled. */
  tick(): Promise<number>;
  /** Asks for a tick soon (after a command added or resumed a schedule). */
  kick(): void;
  start(): void;
  stop(): Promise<void>;
}

export interface ScheduleRunnerDeps {
  pipeline: Pipeline;
  schedules: ScheduleStore;
  store: Store;
  clock: Clock;
  timers: Timers;
  log: Logger;
  misfireGraceMs: number;
  /** Called after a firing queued a post (the outbox deliverer's kick). */
  onPosted(): void;
  /** Longest sleep between looks at the store, which other replicas may have changed (ms). */
  pollMs?: number;
}

/** Stops a pathological pattern from spinning when the bot was down for a very long time. */
const MAX_CATCH_UP = 100_000;
const PAGE = 50;

/**
 * Schedules enter the command pipeline like any adapter: each fire time is one invocation with the id
 * `<schedule>@<fire time>`, run as the author (reverts: as `system` on behalf of the author) with their
 * roles checked again. The pipeline stores that key in its unique invocation table inside the firing's own
 * transaction, together with the firing row, the schedule's next fire time and the result post, so each fire
 * time runs once however many replicas look at the same store. Nothing about schedules lives in memory.
 */
export function createScheduleRunner(deps: ScheduleRunnerDeps): ScheduleRunner {
  const { pipeline, schedules, store, clock, timers, log } = deps;
  const pollMs = deps.pollMs ?? 5000;
  let started = false;
  let timer: unknown;

  /** The latest occurrence not after `now` (missed ones before it are not run), and the one after now. */
  function occurrence(s: Schedule, now: Date): { fireAt: string; next?: string; missed: number } {
    if (!s.cron) return { fireAt: s.nextFireAt!, missed: 0 };
    const cron = new Cron(s.cron, { timezone: s.tz, paused: true });
    let fireAt = new Date(s.nextFireAt!);
    let missed = 0;
    for (let n = cron.nextRun(fireAt); n && n.getTime() <= now.getTime() && missed < MAX_CATCH_UP; n = cron.nextRun(fireAt)) {
      fireAt = n;
      missed++;
    }
    const next = cron.nextRun(now);
    cron.stop();
    return { fireAt: fireAt.toISOString(), missed, ...(next ? { next: next.toISOString() } : {}) };
  }

  const label = (s: Schedule) => (s.name ? `"${s.name}"` : s.id);
  const runsAs = (s: Schedule): InvokingUser =>
    s.kind === 'revert' ? { id: 'system', displayName: `system on behalf of ${s.authorId}` } : { id: s.authorId, displayName: s.authorName };

  /** What the schedule's channel is told about one fire time. */
  function post(s: Schedule, fireAt: string, reply: Reply): Reply {
    const when = formatInZone(new Date(fireAt), s.tz);
    if (reply.outcome === 'denied' && s.kind === 'command') {
      return {
        ...reply,
        title: `⛔ Schedule ${label(s)} stopped`,
        text: `It runs \`${s.command}\` as ${s.authorName} (${s.authorId}), who may no longer do that: ${reply.text ?? 'not allowed'}\nNothing was run at ${when}. Once the role is back: \`schedule resume ${s.id}\`.`,
        severity: 'warning',
        visibility: 'channel',
      };
    }
    const { buttons: _buttons, hint: _hint, ...rest } = reply; // buttons belong to the author's own reply
    const head = s.kind === 'revert' ? '⏲️ Automatic revert' : `⏰ ${label(s)}`;
    const footer =
      s.kind === 'revert'
        ? `Time-limited action of ${s.authorName} ended; run by system on behalf of ${s.authorId} · revert ${s.id}`
        : `Scheduled \`${s.spec}\` (${s.tz}) by ${s.authorName} · ${when} · schedule ${s.id}`;
    return { ...rest, title: `${head}: ${reply.title}`, text: [reply.text, footer].filter(Boolean).join('\n'), visibility: 'channel' };
  }

  /** Inside the firing's unit of work: the (schedule, fire time) row, the next fire time, and the post. */
  async function record(tx: SqlExecutor, s: Schedule, fireAt: string, next: string | undefined, outcome: string, reply: Reply, status?: ScheduleStatus, statusReason?: string): Promise<void> {
    const at = clock.now().toISOString();
    await schedules.recordFiring(
      tx,
      { scheduleId: s.id, fireAt, ranAt: at, outcome, detail: reply.title },
      { from: s.nextFireAt ?? fireAt, ...(next ? { nextFireAt: next } : {}), ...(status ? { status } : {}), ...(statusReason ? { statusReason } : {}) },
    );
    await enqueueOutbox(tx, [{ notificationId: `schedule:${s.id}@${fireAt}`, platform: s.platform, channel: s.channel, op: 'reply', body: reply }], at);
  }

  /** A fire time not run (missed, or a revert overtaken by a later change): audited and said in the channel. */
  async function skip(s: Schedule, fireAt: string, next: string | undefined, why: string, status?: ScheduleStatus): Promise<void> {
    const now = clock.now();
    const user = runsAs(s);
    const reply: Reply = {
      title: s.kind === 'revert' ? `⏲️ Revert ${s.id} not run` : `⏭️ Schedule ${label(s)} skipped its ${formatInZone(new Date(fireAt), s.tz)} run`,
      text: `${why}\nCommand: \`${s.command}\`${next ? ` · next run ${formatInZone(new Date(next), s.tz)}` : ''}`,
      severity: 'warning', visibility: 'channel', outcome: 'failed', traceId: shortId(), time: now.toISOString(),
    };
    const invocationId = `${s.id}@${fireAt}`;
    const result = await store.commit({
      expectedSeq: 0,
      events: [],
      invocationKey: `schedule:${invocationId}`,
      reply,
      audit: {
        at: now.toISOString(), platform: 'schedule', userId: user.id, userName: user.displayName, channel: `${s.platform}:${s.channel}`,
        rawText: s.command, outcome: 'failed', error: `skipped: ${why}`, traceId: reply.traceId, invocationId,
      },
      effects: [(tx) => record(tx, s, fireAt, next, 'skipped', reply, status)],
    });
    if (result.ok) deps.onPosted();
  }

  async function fire(s: Schedule, now: Date): Promise<void> {
    const { fireAt, next, missed } = occurrence(s, now);
    const lateMs = now.getTime() - Date.parse(fireAt);
    // Reverts are never skipped for lateness: undoing a time-limited action late is better than never.
    if (s.kind === 'command' && lateMs > deps.misfireGraceMs) {
      const earlier = missed > 0 ? ` (${missed + 1} runs were missed in all)` : '';
      return skip(s, fireAt, next, `The bot was not running at ${formatInZone(new Date(fireAt), s.tz)}: ${formatDuration(lateMs)} late, more than the ${formatDuration(deps.misfireGraceMs)} grace period${earlier}. Not run late.`);
    }
    if (s.guard) {
      const since = await findSupersedingChange(store, s.guard);
      if (since) {
        return skip(s, fireAt, undefined, `Left as it is: ${since.actor} changed it since (${describeEvent(since.event)}, ${formatTime(since.at)}), so \`${s.command}\` was not run.`, 'done');
      }
    }
    const invocationId = `${s.id}@${fireAt}`;
    await pipeline.handle({
      id: invocationId,
      platform: 'schedule',
      user: runsAs(s),
      channel: `${s.platform}:${s.channel}`,
      text: s.command,
      // Confirmed when the schedule (or the time-limited action) was created.
      confirmed: true,
      inTransaction: (reply, tx) => {
        const stop = reply.outcome === 'denied' && s.kind === 'command';
        return record(tx, s, fireAt, next, reply.outcome, post(s, fireAt, reply), stop ? 'stopped' : s.kind === 'revert' ? 'done' : undefined, stop ? `${s.authorId} lost the role: ${reply.text ?? ''}` : undefined);
      },
    });
    deps.onPosted();
    if (!(await schedules.firing(s.id, fireAt))) {
      // The whole firing transaction failed (logged by the pipeline); move on rather than retry it every tick.
      log.error({ schedule: s.id, fireAt }, 'schedule firing could not be recorded; skipping this fire time');
      await skip(s, fireAt, next, 'An internal error stopped this run; see the bot log.');
    }
  }

  /** Fires everything due, a page at a time; a fire time that could not be handled is not retried in this round. */
  async function once(): Promise<number> {
    const now = clock.now();
    const tried = new Set<string>();
    for (;;) {
      const page = await schedules.due(now.toISOString(), PAGE);
      const fresh = page.filter((s) => !tried.has(`${s.id}@${s.nextFireAt}`));
      for (const s of fresh) {
        tried.add(`${s.id}@${s.nextFireAt}`);
        try {
          await fire(s, now);
        } catch (err) {
          log.error({ err, schedule: s.id }, 'schedule firing failed');
        }
      }
      if (fresh.length === 0 || page.length < PAGE) return tried.size;
    }
  }

  async function arm(): Promise<void> {
    if (!started) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    const soonest = (await schedules.due('9999', 1))[0]?.nextFireAt;
    const wait = soonest ? Math.max(0, Date.parse(soonest) - clock.now().getTime()) : pollMs;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void runner.tick();
    }, Math.min(pollMs, wait > 0 ? Math.max(wait, 20) : 1000)); // past due after a round: its firing failed, retry calmly
  }

  const runner: ScheduleRunner = {
    tick: () => rounds.run(),
    kick() {
      if (started) void runner.tick();
    },
    start() {
      started = true;
      void runner.tick();
    },
    async stop() {
      started = false;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await rounds.current();
    },
  };
  const rounds = createCoalescedRound(once, {
    onError: (err) => log.error({ err }, 'schedule round failed'),
    after: () => arm().catch((err: unknown) => log.error({ err }, 'could not arm the schedule timer')),
  });
  return runner;
}
