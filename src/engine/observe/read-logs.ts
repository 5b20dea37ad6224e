import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { ServiceConfig } from '../../config/runbooks-config-schema.js';
import { UserError } from '../../user-error.js';

/** Most of a log file read from its end: enough for any --lines, never the whole of a large file. */
const FILE_TAIL_BYTES = 4 * 1024 * 1024;
const COMMAND_TIMEOUT_MS = 15_000;
const HTTP_TIMEOUT_MS = 10_000;

export interface LogQuery {
  lines: number;
  grep?: string;
  since: Date;
  now: Date;
}

/** The last `lines` lines of the service's log source matching `grep` (plain text, case-insensitive). */
export async function readLogs(source: NonNullable<ServiceConfig['logs']>, q: LogQuery): Promise<{ lines: string[]; source: string }> {
  const match = q.grep ? (l: string) => l.toLowerCase().includes(q.grep!.toLowerCase()) : () => true;
  const pick = (all: string[]) => all.filter((l) => l.length > 0 && match(l)).slice(-q.lines);
  if ('file' in source) return { lines: pick(await tailFile(source.file)), source: source.file };
  if ('command' in source) {
    const since = q.since.toISOString().slice(0, 19).replace('T', ' ');
    const argv = source.command.map((a) => a.replaceAll('{{since}}', since));
    return { lines: pick((await runCommand(argv)).split('\n')), source: argv.join(' ') };
  }
  return { lines: pick(await queryLoki(source.loki.url, source.loki.query, q)), source: `Loki ${source.loki.query}` };

}

async function tailFile(file: string): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new UserError('infra_invalid_state', `Cannot read the log file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, FILE_TAIL_BYTES);
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n');
    if (length < size) lines.shift(); // a partial first line
    return lines;
  } finally {
    await handle.close();
  }
}

function runCommand(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL' });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      if (out.length > FILE_TAIL_BYTES) out = out.slice(-FILE_TAIL_BYTES);
    });
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString('utf8')).slice(-2000)));
    child.on('error', (e) => reject(new UserError('infra_invalid_state', `Cannot run ${cmd}: ${e.message}.`)));
    child.on('close', (code, signal) => {
      if (signal) return reject(new UserError('infra_invalid_state', `${cmd} did not finish within ${COMMAND_TIMEOUT_MS / 1000}s.`));
      if (code !== 0 && !out) return reject(new UserError('infra_invalid_state', `${cmd} exited with ${code}: ${err.trim().split('\n').at(-1) ?? ''}`));
      resolve(out);
    });
  });
}

/** Loki `query_range`, newest first, merged across streams and returned oldest first. */
async function queryLoki(base: string, query: string, q: LogQuery): Promise<string[]> {
  const ns = (d: Date) => `${d.getTime()}000000`;
  const url = `${base.replace(/\/$/, '')}/loki/api/v1/query_range?query=${encodeURIComponent(query)}&start=${ns(q.since)}&end=${ns(q.now)}&limit=${q.lines}&direction=backward`;
  const body = await getJson(url, 'Loki');
  const result = (body as { data?: { result?: { values?: [string, string][] }[] } }).data?.result ?? [];
  return result
    .flatMap((s) => s.values ?? [])
    .sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1))
    .map((v) => v[1]);
}

export async function getJson(url: string, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (err) {
    const e = err as Error;
    throw new UserError('infra_invalid_state', `${what} at ${new URL(url).host} ${e.name === 'TimeoutError' ? `did not answer within ${HTTP_TIMEOUT_MS / 1000}s` : `is unreachable (${e.message})`}.`);
  }
  if (!res.ok) throw new UserError('infra_invalid_state', `${what} at ${new URL(url).host} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return res.json();
}
