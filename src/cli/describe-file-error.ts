import { escapeTerminalText } from '../chat/console/escape-terminal-text.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'a file of that name is in the way',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  SQLITE_NOTADB: 'it is not an SQLite database (corrupt, or another kind of file)',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_CANTOPEN: 'it cannot be opened (is it a directory, or is its directory missing or read-only?)',
  SQLITE_READONLY: 'it is read-only',
  SQLITE_BUSY: 'another process holds it locked',
  ECONNREFUSED: 'nothing answers at that address (is PostgreSQL running?)',
  ENOTFOUND: 'the host name is unknown',
  '3D000': 'the database does not exist',
  '28P01': 'the password was refused',
  '28000': 'the user may not connect',
};

/** One line for a file that could not be used: what it is, the path, and why in words (no stack trace). */
export function describeFileError(err: unknown, what: string, path: string): string {
  const code = (err as { code?: unknown }).code;
  const reason = (typeof code === 'string' && REASONS[code]) || (err instanceof Error ? err.message : String(err));
  return `cannot use ${what} ${escapeTerminalText(path)}: ${escapeTerminalText(reason)}${typeof code === 'string' ? ` (${code})` : ''}`;
}
