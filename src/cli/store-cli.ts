import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { escapeTerminalText } from '../chat/console/escape-terminal-text.js';
import {
  backupPostgres,
  backupSqlite,
  BackupError,
  describeLocation,
  fileSize,
  isSqliteFile,
  postgresHolders,
  restorePostgres,
  restoreSqlite,
  sqliteHeldByAnother,
} from '../store/backup-store.js';
import { withSchema } from '../store/db/postgres-db.js';
import type { StoreLocation } from '../store/store-location.js';
import { copyStore, nonEmptyTables, StoreCopyError, tableCounts } from '../store/copy-store.js';
import { isPostgresUrl, openSqlDb } from '../store/db/open-sql-db.js';
import { createSqliteDb } from '../store/db/sqlite-db.js';
import { plural } from '../util/plural.js';

export const STORE_USAGE = `  store copy --to postgres://…  [--schema s]
                           Copy this SQLite store (control state, audit chain, health history, keys,
                           schedules) into an empty PostgreSQL database, then verify the audit log there
  backup [file]            Back up the store while the bot runs (SQLite online backup; pg_dump on PostgreSQL);
                           default file: <data dir>/backups/infrabot-<time>.db (.dump on PostgreSQL)
  restore <file> [--force] Restore a backup into the configured store (refused while a bot runs on it, and
                           over a store holding data unless --force), then verify the audit log`;

const EX_USAGE = 64;
const EX_SOFTWARE = 70;
const EX_UNAVAILABLE = 69;

interface Streams {
  stdout: Writable;
  stderr: Writable;
}

export interface StoreCliDeps extends Streams {
  /** The configured store (DATABASE_URL or the data directory's SQLite file). */
  location: StoreLocation;
  dataDir: string;
  /** Runs `audit verify` against a store and prints its result; returns the exit code (0 intact). */
  verify(location: StoreLocation): Promise<number>;
  now?: () => Date;
}

const stamp = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
const say = (io: Streams, text: string) => io.stdout.write(`${text}\n`);
const fail = (io: Streams, text: string, code: number) => (io.stderr.write(`infrabot: ${escapeTerminalText(text)}\n`), code);

/** `infrabot store copy --to postgres://…`. */
export async function storeCopyCli(args: string[], values: { to?: string | undefined; schema?: string | undefined }, deps: StoreCliDeps): Promise<number> {
  if (args[0] !== 'copy') return fail(deps, `unknown store command "${args[0] ?? ''}"; try: infrabot store copy --to postgres://user@host/db`, EX_USAGE);
  if (!values.to) return fail(deps, 'store copy needs --to postgres://user@host:5432/database (the PostgreSQL database to fill)', EX_USAGE);
  if (!isPostgresUrl(values.to)) return fail(deps, `--to "${values.to}" is not a postgres:// URL; store copy fills a PostgreSQL database`, EX_USAGE);
  if (deps.location.backend !== 'sqlite') return fail(deps, 'store copy reads the embedded SQLite store, but this bot is configured for PostgreSQL (DATABASE_URL); unset it to copy from the SQLite file', EX_USAGE);
  const source = deps.location.file;
  if (!existsSync(source)) return fail(deps, `there is no SQLite store at ${source} (check --data-dir and storage.file)`, EX_USAGE);
  // A copy of a store still being written would miss what comes after it (and read tables at different moments).
  if (sqliteHeldByAnother(source)) return fail(deps, `a running bot has ${source} open; stop it first, so that nothing is written after the copy`, EX_USAGE);
  const url = values.schema ? withSchema(values.to, values.schema) : values.to;
  const target: StoreLocation = { backend: 'postgres', url, display: describeLocation({ backend: 'postgres', url, display: '' }) };
  say(deps, `Copying ${source} → ${describeLocation(target)}`);
  const src = createSqliteDb({ file: source });
  let dst;
  try {
    dst = await openSqlDb({ url });
  } catch (err) {
    await src.close();
    return fail(deps, `cannot reach ${describeLocation(target)}: ${(err as Error).message}`, EX_UNAVAILABLE);
  }
  let lastLine = performance.now();
  try {
    const started = performance.now();
    const result = await copyStore(src, dst, {
      batchSize: 1000,
      onProgress: ({ table, copied, total }) => {
        // Quiet for a small store; a long copy shows where it is every few seconds.
        const now = performance.now();
        if (now - lastLine < 3000) return;
        lastLine = now;
        say(deps, `  … ${table}: ${copied.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows`);
      },
    });
    if (result.migrated.length) say(deps, `Migrated the target first (${plural(result.migrated.length, 'migration')}).`);
    const counts = new Map((await tableCounts(dst)).map((c) => [c.table, c.rows]));
    say(deps, `Copied in ${((performance.now() - started) / 1000).toFixed(1)} s. Rows per table (source → target):`);
    let mismatch = false;
    for (const c of result.tables) {
      const there = counts.get(c.table) ?? 0;
      mismatch ||= there !== c.rows;
      say(deps, `  ${c.table.padEnd(20)} ${c.rows.toLocaleString('en-US').padStart(12)} → ${there.toLocaleString('en-US')}${there !== c.rows ? '  MISMATCH' : ''}`);
    }
    if (mismatch) return fail(deps, 'row counts differ between source and target (see MISMATCH above); do not switch to the target', EX_SOFTWARE);
  } catch (err) {
    if (err instanceof StoreCopyError) return fail(deps, err.message, EX_USAGE);
    return fail(deps, `store copy failed; the target was left as it was: ${(err as Error).message}`, EX_SOFTWARE);
  } finally {
    await dst.close();
    await src.close();
  }
  say(deps, 'Verifying the audit log in the target:');
  const code = await deps.verify(target);
  if (code === 0) say(deps, `Done. Start the bot with DATABASE_URL=${maskPassword(url)} to run on the copy.`);
  return code;
}

/** `infrabot backup [file]`. */
export async function backupCli(args: string[], deps: StoreCliDeps): Promise<number> {
  const loc = deps.location;
  const now = deps.now?.() ?? new Date();
  const file = resolve(args[0] ?? join(deps.dataDir, 'backups', `infrabot-${stamp(now)}.${loc.backend === 'sqlite' ? 'db' : 'dump'}`));
  if (existsSync(file)) return fail(deps, `${file} already exists; give another file name (a backup never overwrites one)`, EX_USAGE);
  const started = performance.now();
  try {
    if (loc.backend === 'sqlite') {
      let shown = -1;
      await backupSqlite(loc.file, file, (done, total) => {
        const pct = total ? Math.floor((done / total) * 10) * 10 : 100;
        if (pct !== shown && total > 10_000) say(deps, `  ${pct}% (${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} pages)`);
        shown = pct;
      });
    } else await backupPostgres(loc.url, file);
  } catch (err) {
    return fail(deps, err instanceof BackupError ? err.message : `backup of ${describeLocation(loc)} failed: ${(err as Error).message}`, EX_SOFTWARE);
  }
  const mb = (fileSize(file) / 1_048_576).toFixed(1);
  say(deps, `Backed up ${describeLocation(loc)} to ${file} (${mb} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  say(deps, `Restore with: infrabot restore ${file}`);
  return 0;
}

/** `infrabot restore <file> [--force]`. */
export async function restoreCli(args: string[], values: { force?: boolean | undefined }, deps: StoreCliDeps): Promise<number> {
  const loc = deps.location;
  const from = args[0];
  if (!from) return fail(deps, 'restore needs the backup file: infrabot restore <file> [--force]', EX_USAGE);
  const file = resolve(from);
  if (!existsSync(file)) return fail(deps, `there is no backup at ${file}`, EX_USAGE);
  try {
    if (loc.backend === 'sqlite') {
      if (!isSqliteFile(file)) return fail(deps, `${file} is not an SQLite backup (this bot's store is SQLite; a .dump from pg_dump restores into PostgreSQL)`, EX_USAGE);
      // Overwriting the file under a live bot would corrupt what it writes next: never, even with --force.
      if (sqliteHeldByAnother(loc.file)) return fail(deps, `a running bot has ${loc.file} open; stop it (every replica) and run restore again`, EX_USAGE);
    } else {
      if (isSqliteFile(file)) return fail(deps, `${file} is an SQLite backup, but this bot's store is PostgreSQL; load it with: infrabot store copy --to <url>`, EX_USAGE);
      const holders = await postgresHolders(loc.url);
      if (holders > 0) return fail(deps, `${plural(holders, 'connection')} of a running bot use ${describeLocation(loc)}; stop every replica and run restore again`, EX_USAGE);
    }
    const busy = await storeContents(loc);
    if (busy.length && !values.force) {
      const list = busy.slice(0, 5).map((b) => `${b.table} (${b.rows})`).join(', ');
      return fail(deps, `${describeLocation(loc)} holds data (${list}${busy.length > 5 ? ', …' : ''}); restore replaces all of it: give --force if that is what you want (take a backup first)`, EX_USAGE);
    }
    const started = performance.now();
    if (loc.backend === 'sqlite') await restoreSqlite(file, loc.file);
    else await restorePostgres(loc.url, file);
    say(deps, `Restored ${file} into ${describeLocation(loc)} in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  } catch (err) {
    return fail(deps, err instanceof BackupError ? err.message : `restore into ${describeLocation(loc)} failed: ${(err as Error).message}`, EX_SOFTWARE);
  }
  say(deps, 'Verifying the audit log:');
  return deps.verify(loc);
}

/** The URL to give as DATABASE_URL, with any password shown as *** (the user knows it; logs need not). */
function maskPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\+/g, '%20');
}

/** Copied tables holding rows at a location (a missing SQLite file or schema holds nothing). */
async function storeContents(loc: StoreLocation): Promise<{ table: string; rows: number }[]> {
  if (loc.backend === 'sqlite' && !existsSync(loc.file)) return [];
  const db = await openSqlDb(loc.backend === 'sqlite' ? { file: loc.file } : { url: loc.url });
  try {
    return await nonEmptyTables(db);
  } finally {
    await db.close();
  }
}
