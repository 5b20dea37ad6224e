import type { SqlExecutor } from './db/sql-db.js';

/** Row types and the interface of the schedule store (portable SQL: SQLite and PostgreSQL). */

/** 'command': a recurring `/infra` command; 'revert': the one-shot undo of a time-limited action. */
export type ScheduleKind = 'command' | 'revert';
/** 'stopped': the author lost the role to run it; 'done': a revert that ran (or was skipped). */
export type ScheduleStatus = 'active' | 'paused' | 'stopped' | 'done' | 'removed';

/** A revert is skipped when its scope changed after the action it undoes (someone acted by hand since). */
export interface RevertGuard {
  scope: string;
  types: string[];
  /** Time of the change being undone. */
  at: string;
}

export interface Schedule {
  id: string;
  kind: ScheduleKind;
  name?: string;
  /** What the user typed ("weekdays 09:00"), or "at <time>" for a revert. */
  spec: string;
  /** croner pattern; absent for one-shot reverts. */
  cron?: string;
  tz: string;
  /** The `/infra` command it runs, as typed. */
  command: string;
  authorId: string;
  authorName: string;
  /** Where results are posted. */
  platform: string;
  channel: string;
  status: ScheduleStatus;
  statusReason?: string;
  createdAt: string;
  /** The fire time not yet handled (UTC ISO); absent when none is left. */
  nextFireAt?: string;
  lastFireAt?: string;
  lastOutcome?: string;
  guard?: RevertGuard;
  /** Bumped on every write; user changes compare-and-set on it. */
  version: number;
}

export interface Firing {
  scheduleId: string;
  fireAt: string;
  ranAt: string;
  /** The command's outcome, or 'skipped'. */
  outcome: string;
  detail?: string;
}

export interface ScheduleStore {
  /**
   * Writes on the caller's unit of work (a command's `ctx.transactional` effect or a firing's). False when a
   * schedule with this id exists already (replicas inserting the same configured schedule: the first wins).
   */
  insert(tx: SqlExecutor, s: Schedule): Promise<boolean>;
  /** Compare-and-set on `version`; false when another writer changed the schedule first. */
  update(tx: SqlExecutor, s: Schedule): Promise<boolean>;
  /**
   * Records one firing and moves the schedule on, inside the firing's transaction. The (schedule, fire time)
   * key is unique, so a second writer for the same fire time fails (and with it its whole transaction).
   * `next.nextFireAt` replaces the next fire time only if it is still `next.from`, the one this firing was
   * read with (a resume meanwhile wins).
   */
  recordFiring(tx: SqlExecutor, f: Firing, next: { from: string; nextFireAt?: string; status?: ScheduleStatus; statusReason?: string }): Promise<void>;
  get(id: string): Promise<Schedule | undefined>;
  /** Schedules in creation order; on `tx` when given (read inside a unit of work). */
  list(query?: { kind?: ScheduleKind; statuses?: readonly ScheduleStatus[] }, tx?: SqlExecutor): Promise<Schedule[]>;
  /** Active schedules whose next fire time has come, oldest first. */
  due(now: string, limit: number): Promise<Schedule[]>;
  firing(scheduleId: string, fireAt: string): Promise<Firing | undefined>;
  firings(scheduleId: string, limit: number): Promise<Firing[]>;
  /**
   * Forgets firings that ran before `before`, and reverts and removed schedules finished before it. Safe for
   * exactly-once: a fire time is never due again once its schedule moved past it.
   */
  prune(before: string): Promise<number>;
}
