import type { AdapterFactory } from './chat-adapter.js';

/** Chat adapters `infrabot start` knows; each runs when its credentials are set in the environment. */
export const ADAPTER_FACTORIES: readonly AdapterFactory[] = [];
