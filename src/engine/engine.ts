import type { Role, RoleGrant } from '../auth/roles.js';
import type { InfrabotConfig, RateLimits } from '../config/config-schema.js';
import { checkRateLimits } from './check-rate-limits.js';
import { UserError, notFound } from '../user-error.js';
import type { NewEvent, Store } from '../store/store.js';
import type { Clock } from './ports.js';
import { eventScope, type ControlEvent, type StoredEvent } from './control-events.js';
import {
  applyEvent,
  breakerView,
  configuredBase,
  initialState,
  replay,
  withConfiguredClusters,
  type BreakerView,
  type ClusterState,
  type ControlState,
} from './control-state.js';

export { systemClock, type Clock } from './ports.js';

export interface EngineDeps {
  store: Store;
  config: InfrabotConfig;
  clock: Clock;
}

export interface ClusterView extends ClusterState {
  name: string;
  description: string;
  breakerView: BreakerView;
  breakerCooldown: string;
}

/**
 * The control engine: reads the current state from the store and, through a ControlChange, decides which
 * events a command produces. It keeps nothing between calls, so several replicas can share one store.
 */
export interface Engine {
  readonly config: InfrabotConfig;
  readonly clock: Clock;
  state(): Promise<ControlState>;
  /** The state a stored projection stands for (with the configured clusters); the initial one when none is stored. */
  stateOf(stored: ControlState | undefined): ControlState;
  clusters(state: ControlState): ClusterView[];
  cluster(state: ControlState, name: string): ClusterView;
  /** State as it was at `at`, and every change after it (optionally for one scope; a cluster's includes the kill-switch). */
  stateAt(at: Date, scope?: string): Promise<{ state: ControlState; changesSince: StoredEvent[] }>;
  /** Starts a unit of work on the given state; its events are committed by the caller with the audit record. */
  change(state: ControlState, actor: string): ControlChange;
  bootstrapAdmins(): readonly string[];
}

export function createEngine({ store, config, clock }: EngineDeps): Engine {
  const engine: Engine = {
    config,
    clock,

    async state() {
      return engine.stateOf(await store.readState());
    },

    stateOf(stored) {
      return stored ? withConfiguredClusters(stored, config) : initialState(config);
    },

    clusters(state) {
      return Object.keys(state.clusters)
        .sort()
        .map((name) => engine.cluster(state, name));
    },

    cluster(state, name) {
      // Own properties only: "constructor" or "__proto__" are not clusters.
      const c = Object.hasOwn(state.clusters, name) ? state.clusters[name] : undefined;
      if (!c) {
        throw notFound(`No cluster named "${name}".`, `Known clusters: ${Object.keys(state.clusters).sort().join(', ')}`);
      }
      const configured = Object.hasOwn(config.clusters, name) ? config.clusters[name] : undefined;
      const cooldown = configured?.breaker.cooldown ?? '5m';
      return {
        ...c,
        name,
        description: configured?.description ?? '',
        breakerView: breakerView(c.breaker, cooldown, clock.now()),
        breakerCooldown: cooldown,
      };
    },

    async stateAt(at, scope) {
      const iso = at.toISOString();
      const before = await store.events({ until: iso });
      const after = await store.events({ after: iso });
      // A cluster's history includes the kill-switch: it stopped that cluster's traffic too.
      const changesSince = !scope ? after : after.filter((e) => e.scope === scope || (scope !== 'global' && e.event.type === 'killswitch.set'));
      // Replayed onto the config of that time: later config changes are undone in the base.
      const base = configuredBase(config, [...before, ...after]);
      return { state: withConfiguredClusters(replay(base, before), config), changesSince };
    },

    change(state, actor) {
      return new ControlChange(engine, state, actor, clock);
    },

    bootstrapAdmins: () => config.admins,
  };
  return engine;
}

/** Collects the events of one command against one state, validating each against the state so far. */
export class ControlChange {
  readonly events: NewEvent[] = [];
  private current: ControlState;

  constructor(
    private readonly engine: Engine,
    readonly base: ControlState,
    private readonly actor: string,
    clock: Clock,
  ) {
    this.current = base;
    this.at = clock.now().toISOString();
  }

  /** One time for all of this command's events, also used for its audit record, so replay matches the state. */
  readonly at: string;

  get state(): ControlState {
    return this.current;
  }

  private record(event: ControlEvent): void {
    this.events.push({ actor: this.actor, scope: eventScope(event), event });
    this.current = applyEvent(this.current, {
      seq: this.current.seq,
      at: this.at,
      actor: this.actor,
      scope: eventScope(event),
      event,
    });
  }

  /** Returns false when the kill-switch was already in that position (nothing recorded). */
  setKillSwitch(on: boolean, reason?: string): boolean {
    if (this.current.killSwitch.on === on) return false;
    this.record({ type: 'killswitch.set', on, ...(reason ? { reason } : {}) });
    return true;
  }

  setClusterEnabled(name: string, enabled: boolean, reason?: string): boolean {
    const c = this.engine.cluster(this.current, name);
    if (c.enabled === enabled) return false;
    if (enabled) this.record({ type: 'cluster.enabled', cluster: name, ...(reason ? { reason } : {}) });
    else this.record({ type: 'cluster.disabled', cluster: name, reason: reason ?? '' });
    return true;
  }

  setRateLimits(name: string, limits: Partial<RateLimits>): RateLimits {
    const c = this.engine.cluster(this.current, name);
    const next = { ...c.rateLimits, ...limits };
    const problem = checkRateLimits(next);
    if (problem) throw new UserError('infra_invalid_state', `${problem[0]!.toUpperCase()}${problem.slice(1)}.`);
    this.record({ type: 'ratelimit.set', cluster: name, limits });
    return next;
  }

  /** The config file now declares other defaults for a cluster (see configDrift); `source` names the file and its hash. */
  applyConfigDefaults(name: string, limits: Partial<RateLimits>, previous: Partial<RateLimits>, source: string): void {
    this.engine.cluster(this.current, name);
    this.record({ type: 'config.ratelimit', cluster: name, limits, previous, source });
  }

  tripBreaker(name: string, reason?: string): boolean {
    const c = this.engine.cluster(this.current, name);
    if (c.breakerView === 'open') return false;
    this.record({ type: 'breaker.tripped', cluster: name, ...(reason ? { reason } : {}) });
    return true;
  }

  resetBreaker(name: string): boolean {
    const c = this.engine.cluster(this.current, name);
    if (c.breaker.state === 'closed') return false;
    this.record({ type: 'breaker.reset', cluster: name });
    return true;
  }

  /** Sets (or, with neither window, clears) the budget of a cluster or a team. Returns false when unchanged. */
  setBudget(subject: { cluster: string } | { team: string }, b: { daily?: number; monthly?: number; currency: string }): boolean {
    if ('cluster' in subject) this.engine.cluster(this.current, subject.cluster);
    else if (!Object.values(this.engine.config.clusters).some((c) => c.team === subject.team)) {
      const teams = [...new Set(Object.values(this.engine.config.clusters).flatMap((c) => (c.team ? [c.team] : [])))].sort();
      throw notFound(`No team named "${subject.team}".`, teams.length ? `Teams (from the clusters' \`team\` in the config): ${teams.join(', ')}` : 'No cluster has a `team` in the config yet.');
    }
    const key = 'cluster' in subject ? `cluster:${subject.cluster}` : `team:${subject.team}`;
    const old = this.current.budgets?.[key];
    if ((old?.daily ?? 0) === (b.daily ?? 0) && (old?.monthly ?? 0) === (b.monthly ?? 0) && (old === undefined || old.currency === b.currency)) return false;
    this.record({ type: 'budget.set', ...subject, ...(b.daily ? { daily: b.daily } : {}), ...(b.monthly ? { monthly: b.monthly } : {}), currency: b.currency });
    return true;
  }

  /** Automatic throttling (factor 1 lifts it). Returns false when already at that factor. */
  throttle(name: string, factor: number, reason: string): boolean {
    const c = this.engine.cluster(this.current, name);
    if ((c.throttle?.factor ?? 1) === factor) return false;
    this.record({ type: 'ratelimit.throttled', cluster: name, factor, reason });
    return true;
  }

  /** Switches adaptive limits on or off; false when already so. Needs `adaptive` in the cluster's config. */
  setAdaptive(name: string, on: boolean): boolean {
    const c = this.engine.cluster(this.current, name);
    if (!this.engine.config.clusters[name]?.adaptive) {
      throw new UserError('infra_invalid_state', `Cluster ${name} has no adaptive policy in the config.`, 'Add `adaptive: { floor: { perMinute: N } }` under the cluster (docs/budgets.md).');
    }
    if (!c.adaptive?.off === on) return false;
    this.record({ type: 'ratelimit.adaptive', cluster: name, on });
    return true;
  }

  /** The adaptive controller's step (factor 1: back at the ceiling). False when already at that factor. */
  adapt(name: string, factor: number, reason: string): boolean {
    const c = this.engine.cluster(this.current, name);
    if ((c.adaptive?.factor ?? 1) === factor) return false;
    this.record({ type: 'ratelimit.adapted', cluster: name, factor, reason });
    return true;
  }

  /** Hands a cluster's limits back to automatic throttling. Returns false when no human held them. */
  releaseRateLimits(name: string): boolean {
    const c = this.engine.cluster(this.current, name);
    if (!c.manual) return false;
    this.record({ type: 'ratelimit.released', cluster: name });
    return true;
  }

  grantRole(subject: string, role: Role, cluster?: string): boolean {
    if (cluster) this.engine.cluster(this.current, cluster);
    if (this.current.grants.some((g) => sameGrant(g, subject, role, cluster))) return false;
    this.record({ type: 'role.granted', subject, role, ...(cluster ? { cluster } : {}) });
    return true;
  }

  revokeRole(subject: string, role: Role, cluster?: string): boolean {
    if (!this.current.grants.some((g) => sameGrant(g, subject, role, cluster))) return false;
    this.record({ type: 'role.revoked', subject, role, ...(cluster ? { cluster } : {}) });
    return true;
  }
}

const sameGrant = (g: RoleGrant, subject: string, role: Role, cluster?: string) =>
  g.subject === subject && g.role === role && g.cluster === cluster;
