import type { Store } from '../store/store.js';
import type { Tracer } from './tracer.js';

/** Every commit inside a `store.commit` span (the span must wrap the commit, so this is a decorator, not a subscriber). */
export function traceStore(store: Store, tracer: Tracer): Store {
  return {
    ...store,
    commit: (input) => tracer.span('store.commit', { 'store.events': input.events.length }, () => store.commit(input)),
  };
}
