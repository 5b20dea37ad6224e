import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** Script name → file (`<name>-<numKeys>.lua`) next to this package's `lua/` directory. */
const SCRIPTS = {
  rateLimit3: 'rate-limit-3.lua',
  publishSnapshot1: 'publish-snapshot-1.lua',
  billableReserve5: 'billable-reserve-5.lua',
  billableFinish5: 'billable-finish-5.lua',
  billableStats4: 'billable-stats-4.lua',
} as const;

export interface GuardScripts {
  rateLimit3(k1: string, k2: string, k3: string, perMinute: number, perHour: number, perDay: number, cost: number): Promise<[number, number, number, number, number]>;
  publishSnapshot1(key: string, version: number, doc: string, channel: string, announcement: string): Promise<number>;
  billableReserve5(...args: (string | number)[]): Promise<string[]>;
  billableFinish5(...args: (string | number)[]): Promise<string[]>;
  billableStats4(...args: (string | number)[]): Promise<string[]>;
}

const loaded = new Map<string, string>();
function lua(file: string): string {
  let text = loaded.get(file);
  if (text === undefined) {
    // src/ and dist/ both sit next to lua/.
    text = readFileSync(new URL(`../lua/${file}`, import.meta.url), 'utf8');
    loaded.set(file, text);
  }
  return text;
}

/**
 * Registers the package's Lua scripts on a client once (ioredis sends EVALSHA and falls back to EVAL on
 * NOSCRIPT, so a Redis restart that flushed the script cache costs one extra round trip, not an error).
 */
const defined = new WeakSet<Redis>();

export function defineScripts(redis: Redis): Redis & GuardScripts {
  const r = redis as Redis & Partial<GuardScripts>;
  if (defined.has(redis)) return r as Redis & GuardScripts; // the hot path: once per decision
  defined.add(redis);
  for (const [name, file] of Object.entries(SCRIPTS)) {
    if (typeof (r as unknown as Record<string, unknown>)[name] !== 'function') {
      redis.defineCommand(name, { numberOfKeys: Number(/-(\d+)\.lua$/.exec(file)![1]), lua: lua(file) });
    }
  }
  return r as Redis & GuardScripts;
}
