import { isAbsolute, join } from 'node:path';
import type { InfrabotConfig } from '../config/config-schema.js';
import { createPostgresDb } from './db/postgres-db.js';
import type { SqlDb } from './db/sql-db.js';
import { createSqliteDb } from './db/sqlite-db.js';

/** Which database the store lives in, as shown to users (never with a password). */
export type StoreLocation =
  | { backend: 'sqlite'; file: string }
  | { backend: 'postgres'; url: string; /** host:port/database, for `status` and logs */ display: string };

/**
 * The store's database from the loaded config: `storage.url` (set from DATABASE_URL by the config loader when
 * the file has none) selects PostgreSQL; otherwise the embedded SQLite file in the data directory.
 */
export function storeLocation(config: InfrabotConfig, dataDir: string): StoreLocation {
  if (config.storage.url) return { backend: 'postgres', url: config.storage.url, display: describePostgresUrl(config.storage.url) };
  const file = config.storage.file;
  return { backend: 'sqlite', file: isAbsolute(file) ? file : join(dataDir, file) };
}

/** host:port/database of a postgres:// URL, without user or password. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'PostgreSQL (unparsable URL)';
  }
}

export async function openStoreDb(config: InfrabotConfig, dataDir: string): Promise<{ db: SqlDb; location: StoreLocation }> {
  const location = storeLocation(config, dataDir);
  const db = location.backend === 'postgres' ? await createPostgresDb({ url: location.url }) : createSqliteDb({ file: location.file });
  return { db, location };
}
