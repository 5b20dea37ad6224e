import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import type { StepConfig } from '../../config/runbooks-config-schema.js';
import { CONDITION } from '../../config/runbooks-config-schema.js';
import { parseDuration } from '../../util/duration.js';
import { withEnvironment } from './fill-params.js';

/** A step that did not succeed; `message` is what the run record and chat show. */
export class StepFailed extends Error {
  override name = 'StepFailed';
}

export interface CheckHealth {
  check: string;
  up: boolean;
  latencyMs?: number;
}

/** What a step may use; the executor provides it (no chat, no store). */
export interface StepRuntime {
  signal: AbortSignal;
  /** Appends to the run's output (the executor redacts secrets). */
  output(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Current state of the service's configured checks. */
  health(): Promise<CheckHealth[]>;
  sleep(ms: number): Promise<void>;
  /** Waits for a second person's approval; resolves with who approved, throws StepFailed when it expires. */
  approval(step: Extract<StepConfig, { type: 'approve' }>): Promise<string>;
}

const ms = (d: string) => parseDuration(d)!;

export async function runStep(step: StepConfig, rt: StepRuntime): Promise<string> {
  switch (step.type) {
    case 'exec':
      return runExec(step, rt);
    case 'http':
      return runHttp(step, rt);
    case 'wait_healthy':
      return waitHealthy(step, rt);
    case 'approve':
      return `approved by ${await rt.approval(step)}`;
    case 'analysis':
      return runAnalysis(step, rt);
  }
}

/** The argv runs as is (no shell); stdout and stderr go to the output; a timeout kills the process group. */
function runExec(step: Extract<StepConfig, { type: 'exec' }>, rt: StepRuntime): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...rt.env, ...Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, withEnvironment(v, rt.env)])) };
    const [cmd, ...args] = step.argv;
    const child = spawn(cmd!, args, { cwd: step.cwd, env, shell: false, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let why: string | undefined;
    const kill = (reason: string) => {
      why ??= reason;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => kill(`timed out after ${step.timeout}`), ms(step.timeout));
    const onAbort = () => kill('cancelled');
    rt.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => rt.output(b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => rt.output(b.toString('utf8')));
    child.on('error', (err) => {
      why ??= `could not start ${cmd}: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rt.signal.removeEventListener('abort', onAbort);
      if (why) reject(new StepFailed(why));
      else if (code === 0) resolve(`exit 0`);
      else reject(new StepFailed(`exited with ${code ?? signal}`));
    });
  });
}

async function request(url: string, init: RequestInit, timeoutMs: number, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
  } catch (err) {
    if (signal.aborted) throw new StepFailed('cancelled');
    const e = err as Error;
    throw new StepFailed(e.name === 'TimeoutError' ? `${init.method ?? 'GET'} ${new URL(url).host} timed out after ${timeoutMs} ms` : `${new URL(url).host}: ${e.message}`);
  }
}

async function runHttp(step: Extract<StepConfig, { type: 'http' }>, rt: StepRuntime): Promise<string> {
  const url = withEnvironment(step.url, rt.env);
  const body = step.body === undefined ? undefined : JSON.stringify(step.body);
  const headers: Record<string, string> = { ...(body ? { 'content-type': 'application/json' } : {}) };
  for (const [k, v] of Object.entries(step.headers)) headers[k.toLowerCase()] = withEnvironment(v, rt.env);
  if (step.hmac) {
    const secret = rt.env[step.hmac.secretEnv];
    if (!secret) throw new StepFailed(`the HMAC secret ${step.hmac.secretEnv} is not set in the environment`);
    headers[step.hmac.header.toLowerCase()] = `sha256=${createHmac('sha256', secret).update(body ?? '').digest('hex')}`;
  }
  const res = await request(url, { method: step.method, headers, ...(body ? { body } : {}) }, ms(step.timeout), rt.signal);
  const text = await res.text();
  rt.output(`${step.method} ${new URL(url).host}${new URL(url).pathname} → ${res.status}\n${text.slice(0, 2000)}\n`);
  if (!step.expectStatus.includes(res.status)) throw new StepFailed(`${step.method} ${new URL(url).host}${new URL(url).pathname} answered ${res.status}, expected ${step.expectStatus.join(' or ')}`);
  if (!step.followGithubRun) return `${res.status}`;
  return followGithubRun(step, text, headers, rt);
}

/** workflow_dispatch with return_run_details answers { workflow_run_id, run_url, html_url }; poll run_url until completed. */
async function followGithubRun(step: Extract<StepConfig, { type: 'http' }>, dispatchBody: string, headers: Record<string, string>, rt: StepRuntime): Promise<string> {
  let details: { workflow_run_id?: number; run_url?: string; html_url?: string };
  try {
    details = JSON.parse(dispatchBody) as typeof details;
  } catch {
    throw new StepFailed('the dispatch answered no run details; add "return_run_details": true to the body');
  }
  if (!details.run_url) throw new StepFailed('the dispatch answered no run_url; add "return_run_details": true to the body');
  const follow = step.followGithubRun!;
  const until = Date.now() + ms(follow.timeout);
  const get = { authorization: headers.authorization ?? '', accept: 'application/vnd.github+json' };
  rt.output(`following GitHub run ${details.workflow_run_id ?? ''} ${details.html_url ?? details.run_url}\n`);
  let last = '';
  while (Date.now() < until) {
    const res = await request(details.run_url, { method: 'GET', headers: get }, 15_000, rt.signal);
    if (res.ok) {
      const run = (await res.json()) as { status?: string; conclusion?: string | null };
      if (run.status !== last) rt.output(`GitHub run: ${run.status}\n`);
      last = run.status ?? '';
      if (run.status === 'completed') {
        if (run.conclusion === 'success') return `GitHub run ${details.workflow_run_id ?? ''} succeeded`;
        throw new StepFailed(`GitHub run ${details.workflow_run_id ?? ''} concluded ${run.conclusion ?? 'without a conclusion'}`);
      }
    }
    await rt.sleep(ms(follow.interval));
  }
  throw new StepFailed(`GitHub run did not complete within ${follow.timeout}`);
}

async function waitHealthy(step: Extract<StepConfig, { type: 'wait_healthy' }>, rt: StepRuntime): Promise<string> {
  const until = Date.now() + ms(step.timeout);
  const need = ms(step.for);
  let healthySince: number | undefined;
  let last = '';
  for (;;) {
    const checks = await rt.health();
    if (checks.length === 0) throw new StepFailed('the service has no health checks configured (services.<name>.checks)');
    const bad = checks.filter((c) => !c.up || (step.maxLatencyMs !== undefined && (c.latencyMs ?? Infinity) > step.maxLatencyMs));
    const now = Date.now();
    if (bad.length === 0) {
      healthySince ??= now;
      if (now - healthySince >= need) return `healthy for ${step.for}`;
    } else {
      healthySince = undefined;
      last = bad.map((c) => `${c.check} ${c.up ? `${c.latencyMs ?? '?'} ms` : 'DOWN'}`).join(', ');
    }
    if (now >= until) throw new StepFailed(`not healthy for ${step.for} within ${step.timeout}${last ? ` (${last})` : ''}`);
    await rt.sleep(Math.min(1000, Math.max(50, need / 10)));
  }
}

export function meets(condition: string, value: number): boolean {
  const m = CONDITION.exec(condition)!;
  const n = Number(m[2]);
  switch (m[1]) {
    case '<': return value < n;
    case '<=': return value <= n;
    case '>': return value > n;
    case '>=': return value >= n;
    case '==': return value === n;
    default: return value !== n;
  }
}

/** Argo-style analysis: `count` measurements `interval` apart; more than `failureLimit` failures fails the step. */
async function runAnalysis(step: Extract<StepConfig, { type: 'analysis' }>, rt: StepRuntime): Promise<string> {
  let failures = 0;
  for (let i = 1; i <= step.count; i++) {
    const value = await promInstant(step.prometheus.url, step.prometheus.query, rt.signal);
    const ok = value !== undefined && meets(step.successCondition, value) && !(step.failureCondition && meets(step.failureCondition, value));
    if (!ok) failures++;
    rt.output(`analysis ${i}/${step.count}: result = ${value ?? 'no data'} → ${ok ? 'pass' : 'fail'}\n`);
    if (failures > step.failureLimit) throw new StepFailed(`analysis failed: ${failures} of ${i} measurements failed ${step.successCondition} (limit ${step.failureLimit})`);
    if (i < step.count) await rt.sleep(ms(step.interval));
  }
  return `analysis passed (${failures} failed of ${step.count})`;
}

/** The first sample of a Prometheus instant query, or undefined when it returns nothing. */
export async function promInstant(base: string, query: string, signal: AbortSignal): Promise<number | undefined> {
  const url = `${base.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  const res = await request(url, { method: 'GET' }, 10_000, signal);
  if (!res.ok) throw new StepFailed(`Prometheus answered ${res.status} to ${query}`);
  const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
  const v = body.data?.result?.[0]?.value?.[1];
  return v === undefined ? undefined : Number(v);
}
