import type { HealthBatch, HealthStore, Silence } from '../../store/health-store.js';
import { notFound, UserError } from '../../user-error.js';
import { formatDuration } from '../../util/duration.js';
import { shortId } from '../../util/ids.js';
import type { Clock } from '../ports.js';

/** The longest a silence or ad-hoc maintenance window may last (docs/health.md). */
export const MAX_SILENCE_MS = 7 * 86_400_000;

export interface SilenceInput {
  kind: Silence['kind'];
  target: string;
  forMs: number;
  reason: string;
  actor: string;
}

/**
 * Silences and ad-hoc maintenance windows, decided into a command's batch (versioned rows: an extension or an
 * end decided on a silence that changed meanwhile conflicts and is decided again).
 */
export function createSilences(deps: { health: HealthStore; clock: Clock; known: (target: string) => boolean }) {
  const { health, clock } = deps;
  return {
    /**
     * Adds the silence, at most MAX_SILENCE_MS long. An active one of the same kind on the same target is merged
     * instead of duplicated: extended when the new one ends later, left as it is when it already covers it.
     */
    async add({ kind, target, forMs, reason, actor }: SilenceInput, batch: HealthBatch): Promise<{ silence: Silence; merged?: { how: 'extended' | 'covered'; previousEndsAt: string } }> {
      const known =
        deps.known(target) ||
        // A received alert's cluster or name (Alertmanager's clusters need not be configured here).
        (await health.alerts({ status: 'firing' })).some((a) => a.external && (a.cluster === target || a.check === target));
      if (!known) throw notFound(`No cluster or check named "${target}".`);
      if (forMs > MAX_SILENCE_MS) {
        throw new UserError(
          'infra_usage',
          `--for ${formatDuration(forMs)} is longer than the ${formatDuration(MAX_SILENCE_MS)} a ${kind === 'maintenance' ? 'maintenance window' : 'silence'} may last.`,
          'A forgotten silence hides real outages: silence again when it runs out, or use a recurring maintenance window in the config.',
        );
      }
      const now = clock.now();
      const endsAt = new Date(now.getTime() + forMs).toISOString();
      const active = (await health.silences({ activeAt: now.toISOString(), kind })).filter((s) => s.target === target);
      const current = active.sort((a, b) => b.endsAt.localeCompare(a.endsAt))[0];
      if (current) {
        if (current.endsAt >= endsAt) return { silence: current, merged: { how: 'covered', previousEndsAt: current.endsAt } };
        const extended = { ...current, endsAt };
        (batch.silences ??= []).push(extended);
        return { silence: extended, merged: { how: 'extended', previousEndsAt: current.endsAt } };
      }
      const s: Silence = { id: shortId(6), kind, target, reason, createdBy: actor, startsAt: now.toISOString(), endsAt };
      (batch.silences ??= []).push(s);
      return { silence: s };
    },
    /** Ends the active silences (or maintenance windows) of a target or with that id. */
    async end(target: string, kind: Silence['kind'], actor: string, batch: HealthBatch): Promise<Silence[]> {
      const now = clock.now().toISOString();
      const active = (await health.silences({ activeAt: now, kind })).filter((s) => s.target === target || s.id === target);
      if (active.length === 0) throw new UserError('infra_invalid_state', `No active ${kind} for "${target}".`);
      const ended = active.map((s) => ({ ...s, endedAt: now, reason: `${s.reason} (ended by ${actor})` }));
      (batch.silences ??= []).push(...ended);
      return ended;
    },
  };
}
