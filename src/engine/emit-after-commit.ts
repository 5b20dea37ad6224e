import type { Store } from '../store/store.js';
import { outcomeEvent, type EmitLifecycle } from './lifecycle-events.js';

/**
 * The store every writer uses (pipeline, schedules, remediation, config changes): a commit that landed is
 * announced on the lifecycle bus (`command.committed`, then accepted/denied/failed by its audited outcome)
 * before its caller sees the result, so subscribers never miss a commit and never see one that did not land.
 */
export function emitAfterCommit(store: Store, emit: EmitLifecycle): Store {
  return {
    ...store,
    async commit(input) {
      const started = performance.now();
      const result = await store.commit(input);
      if (!result.ok) return result;
      const { audit, events } = result;
      const traceId = audit.traceId;
      // The state stored, which may be a decision made again under the lock rather than the input's.
      const state = result.state ?? (events.length > 0 && input.state ? { ...input.state, seq: events.at(-1)!.seq } : undefined);
      emit({ type: 'command.committed', traceId, audit, events, ...(state ? { state } : {}), commitMs: performance.now() - started });
      const kind = outcomeEvent(audit.outcome);
      if (kind) emit({ type: kind, traceId, audit });
      return result;
    },
  };
}
