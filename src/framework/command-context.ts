import type { RoleSources } from '../auth/authorize.js';
import type { Engine, ControlChange } from '../engine/engine.js';
import type { ControlState } from '../engine/control-state.js';
import type { Store, UnitOfWorkEffect } from '../store/store.js';
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
  /**
   * Whether rows of this cluster may be shown (always true unless the subcommand `listsClusters` and the user
   * holds the role on some clusters only); rows without a cluster count as global.
   */
  canSee(cluster: string | undefined): boolean;
  /** The clusters a cluster-scoped user may see in a listing; undefined when they may see all. */
  visibleClusters?: readonly string[];
  now(): Date;
  /** A button that runs `command` as whoever clicks it (authorized again on click). */
  button(label: string, command: string, opts?: { style?: ReplyButton['style']; confirmed?: boolean }): Promise<ReplyButton>;
  /**
   * Registers a write that must commit atomically with this command's audit record (and control events):
   * the store runs it inside the same transaction, only if the handler succeeds, and never for a duplicate
   * delivery. Throwing from it aborts the whole command. The effect writes on the unit of work `tx` it is
   * given; `afterCommit` runs once the commit has landed (kicks of background work that must see the write).
   */
  transactional(effect: UnitOfWorkEffect, afterCommit?: () => void): void;
  /** Optional services wired by the app (e.g. the health monitor); absent when the process runs without them. */
  services?: CommandServices;
}

/**
 * Services command groups may use beyond the engine. Empty here; a module adds its service by declaration
 * merging (`declare module '…/command-context.js' { interface CommandServices { health?: … } }`), so the
 * framework does not depend on it.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CommandServices {}
