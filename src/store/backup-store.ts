import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { applicationName } from './db/postgres-db.js';

/** Where a store lives: the embedded SQLite file, or a PostgreSQL database (and schema). */
export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema?: string };

/** A refusal or failure told in one line (the CLI prints it as it is, no stack trace). */
export class BackupError extends Error {
  override name = 'BackupError';
}


export const describeLocation = (loc: StoreLocation) => (loc.kind === 'sqlite' ? loc.file : `${redactUrl(loc.url)}${loc.schema ? ` (schema ${loc.schema})` : ''}`);

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

/**
 * True when another process has the SQLite file open, as a running bot does. The probe asks for an
 * exclusive lock without waiting: the operating system drops a process's locks when it dies, so a
 * crashed bot never blocks a restore, and a live one always does.
 */
export function sqliteHeldByAnother(file: string): boolean {
  if (!existsSync(file)) return false;
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    return false;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw err;
  } finally {
    db.close();
  }
}

/** Connected infrabot processes on this PostgreSQL database and schema (other than ourselves). */
export async function postgresHolders(loc: { url: string; schema?: string }): Promise<number> {
  const client = new pg.Client({ connectionString: loc.url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1',
      [applicationName(loc.schema)],
    );
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

const SQLITE_MAGIC = 'SQLite format 3\0';

export function isSqliteFile(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(16);
    return readSync(fd, buf, 0, 16, 0) === 16 && buf.toString('latin1') === SQLITE_MAGIC;
  } finally {
    closeSync(fd);
  }
}

/**
 * SQLite: the online backup API copies a consistent snapshot page by page while the bot keeps writing (it
 * restarts a step that saw a concurrent write; readers and the writer are never blocked for long).
 */
export async function backupSqlite(file: string, to: string, onProgress?: (done: number, total: number) => void): Promise<void> {
  if (!existsSync(file)) throw new BackupError(`there is no database at ${file} to back up`);
  mkdirSync(dirname(to), { recursive: true });
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    await db.backup(to, {
      progress: ({ totalPages, remainingPages }) => {
        onProgress?.(totalPages - remainingPages, totalPages);
        return 1000; // pages per step; the bot gets the database back between steps
      },
    });
  } finally {
    db.close();
  }
}

/** Restores an SQLite backup over `file` with the backup API (atomic for readers of the target). */
export async function restoreSqlite(from: string, file: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(from, { readonly: true, fileMustExist: true });
  try {
    await db.backup(file);
  } finally {
    db.close();
  }
}

/** Runs a PostgreSQL client tool, telling clearly when it is not installed. */
function runTool(tool: 'pg_dump' | 'pg_restore', args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new BackupError(
          err.code === 'ENOENT'
            ? `${tool} was not found on PATH: install the PostgreSQL client tools of your server's major version (e.g. apt-get install postgresql-client-15) and try again`
            : `${tool} could not be started: ${err.message}`,
        ),
      ),
    );
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new BackupError(`${tool} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' / ') || 'no message'}`)),
    );
  });
}

/** pg_dump/pg_restore take a libpq URL; our own parameters (schema) are not theirs. */
function libpqUrl(url: string): string {
  const u = new URL(url);
  u.searchParams.delete('schema');
  return u.toString();
}

/** PostgreSQL: `pg_dump --format=custom` of the store's schema (a consistent snapshot; the bot keeps running). */
export async function backupPostgres(loc: { url: string; schema?: string }, to: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  mkdirSync(dirname(to), { recursive: true });
  await runTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', ...(loc.schema ? [`--schema=${loc.schema}`] : []), `--file=${to}`, `--dbname=${libpqUrl(loc.url)}`], env);
}

/** PostgreSQL: pg_restore of a custom-format dump; `clean` drops the objects it restores first (--force). */
export async function restorePostgres(loc: { url: string; schema?: string }, from: string, clean: boolean, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await runTool(
    'pg_restore',
    ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', ...(clean ? ['--clean', '--if-exists'] : []), ...(loc.schema ? [`--schema=${loc.schema}`] : []), `--dbname=${libpqUrl(loc.url)}`, from],
    env,
  );
}

export const fileSize = (file: string) => statSync(file).size;
