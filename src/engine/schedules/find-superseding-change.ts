import type { RevertGuard } from '../../store/schedule-store.js';
import type { Store } from '../../store/store.js';
import type { StoredEvent } from '../control-events.js';

/**
 * The first change to a revert's scope after the action it undoes, if any: such a revert is skipped when due
 * (someone acted by hand since). The runner and `status` both ask here, so they never disagree.
 */
export async function findSupersedingChange(store: Pick<Store, 'events'>, guard: RevertGuard): Promise<StoredEvent | undefined> {
  return (await store.events({ after: guard.at, scope: guard.scope })).find((e) => guard.types.includes(e.event.type));
}
