import { createPostgresDb } from './postgres-db.js';
import type { SqlDb } from './sql-db.js';
import { createSqliteDb } from './sqlite-db.js';

export interface OpenSqlDbOptions {
  /** `postgres://…` (or `postgresql://…`) selects PostgreSQL; otherwise `file` (default ':memory:') is SQLite. */
  url?: string;
  file?: string;
  /** PostgreSQL schema for the tables (created when missing). */
  schema?: string;
  busyTimeoutMs?: number;
}

export const isPostgresUrl = (url: string | undefined): url is string => !!url && /^postgres(ql)?:\/\//i.test(url);

export async function openSqlDb(options: OpenSqlDbOptions): Promise<SqlDb> {
  if (isPostgresUrl(options.url)) return createPostgresDb({ url: options.url, ...(options.schema ? { schema: options.schema } : {}) });
  return createSqliteDb({ file: options.file ?? ':memory:', ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}) });
}
