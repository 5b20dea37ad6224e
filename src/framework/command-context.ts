import type { RoleSources } from '../auth/authorize.js';
import type { Engine, ControlChange } from '../engine/engine.js';
import type { ControlState } from '../engine/control-state.js';
import type { Store } from '../store/store.js';
import type { Invocation } from './invocation.js';
import type { ReplyButton } from './reply.js';
import type { Registry } from './registry.js';

/** What a handler may use. No platform objects: only the neutral invocation and the engine. */
export interface CommandContext {
  invocation: Invocation;
  engine: Engine;
  /** Control state as read for this invocation. */
  state: ControlState;
  /** Unit of work: events recorded here commit together with the audit record. */
  change: ControlChange;
  store: Store;
  registry: Registry;
  roles: RoleSources;
  now(): Date;
  /** A button that runs `command` as whoever clicks it (authorized again on click). */
  button(label: string, command: string, opts?: { style?: ReplyButton['style']; confirmed?: boolean }): Promise<ReplyButton>;
}
