/** One run per service and environment: who holds the lock is a run id. */
export interface RunLock {
  /** Takes the lock for `runId`; returns the run id holding it when it is taken by another run. */
  acquire(key: string, runId: string, ttlMs: number): Promise<{ ok: true } | { ok: false; holder: string }>;
  /** Extends it while `runId` still holds it; false when it was lost. */
  refresh(key: string, runId: string, ttlMs: number): Promise<boolean>;
  release(key: string, runId: string): Promise<void>;
}

export const lockKey = (service: string, env: string) => `${service}:${env}`;

/** Without Redis there is one process (the thin path), so its memory is the one place to agree in. */
export function inProcessLock(now: () => number = Date.now): RunLock {
  const held = new Map<string, { runId: string; until: number }>();
  return {
    async acquire(key, runId, ttlMs) {
      const h = held.get(key);
      if (h && h.until > now() && h.runId !== runId) return { ok: false, holder: h.runId };
      held.set(key, { runId, until: now() + ttlMs });
      return { ok: true };
    },
    async refresh(key, runId, ttlMs) {
      const h = held.get(key);
      if (!h || h.runId !== runId) return false;
      h.until = now() + ttlMs;
      return true;
    },
    async release(key, runId) {
      if (held.get(key)?.runId === runId) held.delete(key);
    },
  };
}
