import type { Dialect, SqlFragment } from './sql.js';

/**
 * What store code runs statements on: the database itself, or a unit of work's transaction. Store modules are
 * functions over an executor, so the same write can run alone or as part of a larger unit of work.
 *
 * Conventions both backends share: times are ISO-8601 text, JSON documents are text, booleans are 0/1
 * integers, integers (including BIGINT) come back as JS numbers, ids come from identity columns.
 */
export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T = Record<string, unknown>>(q: SqlFragment): Promise<T[]>;
  one<T = Record<string, unknown>>(q: SqlFragment): Promise<T | undefined>;
  run(q: SqlFragment): Promise<{ changes: number }>;
  /** Runs a multi-statement script with no parameters (migrations, DDL). */
  exec(script: string): Promise<void>;
}

/**
 * The database: an executor outside transactions plus the unit of work. Every statement `fn` runs on `tx`
 * commits together or not at all; what `fn` throws rolls it back and is rethrown.
 */
export interface SqlDb extends SqlExecutor {
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Thrown when a statement breaks a unique constraint, on either backend, so callers can treat it alike. */
export class UniqueViolation extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'UniqueViolation';
  }
}
