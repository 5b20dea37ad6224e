import type { ServiceConfig, StepConfig } from '../../config/runbooks-config-schema.js';
import { usage } from '../../user-error.js';
import { quoteForMessage } from '../../util/quote-for-message.js';

const PLACEHOLDER = /\{\{\s*([a-z0-9_-]+)\s*\}\}/g;

/**
 * Checks every parameter against its declared pattern (matched whole) and fills in defaults. Values are
 * only ever substituted inside one argv element, URL or JSON string, never handed to a shell, so `; rm -rf /`
 * that a pattern lets through still reaches the program as one literal argument.
 */
export function checkParams(service: string, svc: ServiceConfig, given: Record<string, string>, versionPattern: string): Record<string, string> {
  const declared: Record<string, { pattern: string; default?: string }> = { version: { pattern: versionPattern }, ...svc.params };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(given)) {
    if (k === 'env') continue;
    const d = declared[k];
    if (!d) throw usage(`${service} takes no parameter ${quoteForMessage(k)}; it takes ${Object.keys(declared).sort().join(', ')}.`);
    if (!new RegExp(`^(?:${d.pattern})$`).test(v) || /[\r\n\0]/.test(v)) {
      throw usage(`${quoteForMessage(v)} is not a valid ${k} for ${service}: it must match ${d.pattern}.`);
    }
    out[k] = v;
  }
  for (const [k, d] of Object.entries(declared)) if (out[k] === undefined && d.default !== undefined) out[k] = d.default;
  if (given.env !== undefined) out.env = given.env;
  return out;
}

/** The placeholders a runbook's steps use that `params` does not provide. */
export function missingParams(steps: readonly StepConfig[], params: Record<string, string>): string[] {
  const names = new Set<string>();
  for (const m of JSON.stringify(steps).matchAll(PLACEHOLDER)) if (params[m[1]!] === undefined) names.add(m[1]!);
  return [...names].sort();
}

const fill = (text: string, params: Record<string, string>, encode: (v: string) => string = (v) => v) =>
  text.replace(PLACEHOLDER, (_m, k: string) => encode(params[k] ?? ''));

function fillJson(v: unknown, params: Record<string, string>): unknown {
  if (typeof v === 'string') return fill(v, params);
  if (Array.isArray(v)) return v.map((x) => fillJson(x, params));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fillJson(x, params)]));
  return v;
}

/** A step with its parameters filled in: what runs, and what --dry-run shows. */
export function fillStep(step: StepConfig, params: Record<string, string>): StepConfig {
  switch (step.type) {
    case 'exec':
      return { ...step, argv: step.argv.map((a) => fill(a, params)), env: Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, fill(v, params)])) };
    case 'http':
      return {
        ...step,
        url: fill(step.url, params, encodeURIComponent),
        headers: Object.fromEntries(Object.entries(step.headers).map(([k, v]) => [k, fill(v, params)])),
        ...(step.body !== undefined ? { body: fillJson(step.body, params) } : {}),
      };
    case 'analysis':
      return { ...step, prometheus: { ...step.prometheus, query: fill(step.prometheus.query, params) } };
    default:
      return step;
  }
}

/**
 * `{{env.NAME}}` in exec env values, headers and URLs reads the environment of the process running the step,
 * when it runs (a config's `${NAME}` is read at load time instead, and would show in --dry-run).
 */
export function withEnvironment(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, k: string) => env[k] ?? '');
}

/** One line per step, as --dry-run and `runs show` print it. */
export function describeStep(step: StepConfig): string {
  switch (step.type) {
    case 'exec':
      return `exec ${JSON.stringify(step.argv)}${step.cwd ? ` in ${step.cwd}` : ''} (timeout ${step.timeout})`;
    case 'http':
      return `http ${step.method} ${step.url}${step.body !== undefined ? ` ${JSON.stringify(step.body)}` : ''} expecting ${step.expectStatus.join('/')}${step.followGithubRun ? ', then follow the GitHub run' : ''}`;
    case 'wait_healthy':
      return `wait until healthy for ${step.for} (timeout ${step.timeout})`;
    case 'approve':
      return `approval by a second ${step.role} (expires after ${step.expires})`;
    case 'analysis':
      return `analysis: ${step.prometheus.query} → success if ${step.successCondition}, every ${step.interval} × ${step.count}, failure limit ${step.failureLimit}`;
  }
}

export const stepName = (step: StepConfig, i: number) => step.name ?? `${step.type} ${i + 1}`;
