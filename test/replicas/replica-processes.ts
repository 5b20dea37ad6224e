/**
 * Real `infrabot start` processes (the CLI entry point from the TypeScript sources) on one PostgreSQL schema,
 * each serving Slack over HTTP on its own port: what several replicas behind a load balancer are.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/util/package-root.js';

export const SIGNING_SECRET = 'replica-test-signing-secret';

export interface Replica {
  name: string;
  proc: ChildProcess;
  /** Where Slack posts slash commands to this replica. */
  eventsUrl: string;
  logs: string[];
  alive: boolean;
}

export interface ReplicaOptions {
  databaseUrl: string;
  slackApiUrl: string;
  configFile: string;
  keyDir: string;
  dataDir: (name: string) => string;
  startTimeoutMs?: number;
}

export async function startReplica(name: string, opts: ReplicaOptions): Promise<Replica> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(DISCORD_|SLACK_|REDIS_URL$|INFRABOT_)/.test(k)) delete env[k];
  Object.assign(env, {
    DATABASE_URL: opts.databaseUrl,
    SLACK_BOT_TOKEN: 'xoxb-replica-test',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_PORT: '0',
    SLACK_API_URL: opts.slackApiUrl,
    INFRABOT_KEY_DIR: opts.keyDir,
  });
  const proc = spawn(process.execPath, ['--import', 'tsx', join(PACKAGE_ROOT, 'test/helpers/cli-entry.ts'), 'start', '--config', opts.configFile, '--data-dir', opts.dataDir(name)], {
    cwd: PACKAGE_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const replica: Replica = { name, proc, eventsUrl: '', logs: [], alive: true };
  proc.on('exit', () => (replica.alive = false));
  let buffered = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica ${name} did not start in time:\n${replica.logs.slice(-20).join('\n')}`)), opts.startTimeoutMs ?? 45_000);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        replica.logs.push(line);
        const port = /"port":(\d+).*Slack adapter listening/.exec(line)?.[1];
        if (port) replica.eventsUrl = `http://127.0.0.1:${port}/slack/events`;
        if (line.includes('"infrabot started"')) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica ${name} exited (${code}) before it started:\n${replica.logs.slice(-20).join('\n')}`));
    });
  });
  await ready;
  return replica;
}

/** Stops a replica as an orchestrator does (SIGTERM), or kills it outright (SIGKILL: no shutdown at all). */
export async function stopReplica(r: Replica, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  if (!r.alive) return;
  const exited = once(r.proc, 'exit');
  r.proc.kill(signal);
  await exited;
}
