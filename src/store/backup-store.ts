import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { applicationName, schemaInUrl } from './db/postgres-db.js';
import { describePostgresUrl, type StoreLocation } from './store-location.js';

/** A refusal or failure told in one line (the CLI prints it as it is, no stack trace). */
export class BackupError extends Error {
  override name = 'BackupError';
}


/** The file, or PostgreSQL's host:port/database and schema (never the password). */
export const describeLocation = (loc: StoreLocation) => {
  if (loc.backend === 'sqlite') return loc.file;
  const schema = schemaInUrl(loc.url);
  return `${describePostgresUrl(loc.url)}${schema ? ` (schema ${schema})` : ''}`;
};

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
export async function postgresHolders(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1',
      [applicationName(schemaInUrl(url))],
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


/** PostgreSQL: `pg_dump --format=custom` of the store's schema (a consistent snapshot; the bot keeps running). */
export async function backupPostgres(url: string, to: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  mkdirSync(dirname(to), { recursive: true });
  const schema = schemaInUrl(url);
  await runTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', ...(schema ? [`--schema=${schema}`] : []), `--file=${to}`, `--dbname=${url}`], env);
}

/** PostgreSQL: pg_restore of a custom-format dump; `clean` drops the objects it restores first (--force). */
export async function restorePostgres(url: string, from: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // --clean drops what the dump holds before recreating it (the caller refused a store with data unless --force).
  await runTool('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', '--clean', '--if-exists', `--dbname=${url}`, from], env);
}

export const fileSize = (file: string) => statSync(file).size;
