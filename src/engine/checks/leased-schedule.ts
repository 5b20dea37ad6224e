import type { Lease, LeaseStore } from '../../store/health-store.js';

/**
 * Which replica probes which check, and when: kept in lease rows in the database, never in process memory.
 * A replica takes a check's due slot with compare-and-set (one winner per slot) and then owns the check until its
 * lease expires, renewing it while alive; others leave an owned check alone. When the owner dies its renewals
 * stop, and the check is taken over at its first due slot after the lease expired: within one interval plus the
 * lease time. Housekeeping jobs (`job:*`) use the same rows, so reminders and compaction run on one replica.
 */
export interface LeasedSchedule {
  /** Takes every due slot this replica may run now and returns the names won (each at most once per slot). */
  takeDue(now: Date, only?: (name: string) => boolean): Promise<string[]>;
  /** True when this replica won the job's slot: run it now (`everyMs` from now is its next slot). */
  takeJob(job: string, everyMs: number, now: Date): Promise<boolean>;
  /** The earliest due time among the rows (for the wake-up timer); undefined before the first read. */
  soonest(): number | undefined;
  /** Gives up this replica's leases (a clean stop): the others take its checks at their next slot. */
  release(): Promise<void>;
  readonly owner: string;
}

export interface ScheduledItem {
  name: string;
  intervalMs: number;
}

/** Deterministic offset in [0, interval): spreads checks over their interval so they do not all fire at once. */
export function spreadOffset(name: string, intervalMs: number): number {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return (h >>> 0) % intervalMs;
}

/** The slot after `due` (keeping the phase), skipping missed slots after a stall rather than bursting. */
export function nextSlot(dueMs: number, intervalMs: number, nowMs: number): number {
  const next = dueMs + intervalMs;
  return next > nowMs ? next : nowMs + intervalMs - ((nowMs - dueMs) % intervalMs);
}

export function createLeasedSchedule(opts: { leases: LeaseStore; owner: string; items: readonly ScheduledItem[]; leaseMs: number; startMs: number }): LeasedSchedule {
  const { leases, owner, leaseMs } = opts;
  const byName = new Map(opts.items.map((i) => [`check:${i.name}`, i]));
  let ensured: Promise<void> | undefined;
  const jobs = new Set<string>();
  let soonest: number | undefined;
  const iso = (ms: number) => new Date(ms).toISOString();
  const heldByOther = (l: Lease, nowMs: number) => l.owner !== undefined && l.owner !== owner && Date.parse(l.expiresAt) > nowMs;

  const ensure = () =>
    (ensured ??= leases.ensure([...byName.keys()], (name) => iso(opts.startMs + spreadOffset(name.slice(6), byName.get(name)!.intervalMs))).catch((err) => {
      ensured = undefined; // try again next round
      throw err;
    }));

  return {
    owner,
    async takeDue(now, only) {
      await ensure();
      const nowMs = now.getTime();
      // One unit of work per round: renew, read and take commit together (one sync, not one per row).
      return leases.atomically(async () => {
        // Renewed while alive, before the lease runs low, so a live owner never lapses between two rounds.
        await leases.renew(owner, 'check:', iso(nowMs), iso(nowMs + leaseMs));
        const won: string[] = [];
        let next = Infinity;
        for (const l of await leases.read('check:')) {
          const item = byName.get(l.name);
          if (!item) continue; // a check only another replica's config has
          const due = Date.parse(l.nextDueAt);
          next = Math.min(next, heldByOther(l, nowMs) ? Math.max(due, Date.parse(l.expiresAt)) : due);
          if (due > nowMs || heldByOther(l, nowMs) || (only && !only(item.name))) continue;
          const slot = nextSlot(due, item.intervalMs, nowMs);
          if (await leases.take(l, owner, iso(nowMs + leaseMs), iso(slot))) {
            won.push(item.name);
            next = Math.min(next, slot);
          }
        }
        soonest = next === Infinity ? undefined : next;
        return won;
      });
    },
    async takeJob(job, everyMs, now) {
      const name = `job:${job}`;
      const nowMs = now.getTime();
      if (!jobs.has(name)) {
        await leases.ensure([name], () => iso(nowMs));
        jobs.add(name);
      }
      // Read first (no write, no commit) and take only a due slot.
      const l = (await leases.read(name)).find((x) => x.name === name);
      if (!l || Date.parse(l.nextDueAt) > nowMs) return false;
      // A job's lease is only its slot: whoever comes first after it is due runs it.
      return leases.take(l, owner, iso(nowMs + everyMs), iso(nowMs + everyMs));
    },
    soonest: () => soonest,
    release: () => leases.release(owner),
  };
}
