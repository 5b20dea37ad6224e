import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { InfrabotConfig } from '../config/config-schema.js';
import type { Store } from '../store/store.js';
import { compareReplay } from '../audit/compare-replay.js';
import { shortId } from '../util/ids.js';
import type { StoredEvent } from './control-events.js';
import { configDrift } from './control-state.js';
import type { Engine } from './engine.js';

const MAX_ATTEMPTS = 5;

/** "infrabot.yaml sha256:1a2b3c4d": the file and a hash of the control defaults it declares. */
export function configSource(config: InfrabotConfig, file?: string): string {
  const defaults = Object.fromEntries(Object.entries(config.clusters).sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => [name, c.rateLimits]));
  const hash = createHash('sha256').update(JSON.stringify(defaults)).digest('hex').slice(0, 12);
  return `${file ? basename(file) : 'config'} sha256:${hash}`;
}

/**
 * At start: where the config now declares other defaults than the stored state holds (and no command set
 * that value), records the difference as control events by actor `config`, audited like a command, so the
 * state, the config and `history` agree and history shows when the config changed. Several replicas starting
 * at once: the commit is conditional on the state sequence, so one records it and the others find no drift.
 */
export async function recordConfigChanges(deps: { engine: Engine; store: Store; log: Logger; file?: string }): Promise<StoredEvent[]> {
  const { engine, store } = deps;
  const source = configSource(engine.config, deps.file);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { state: stored, events } = await store.controlSnapshot();
    if (!stored) return []; // nothing stored yet: the state is the config's
    // A state that does not match its own events (a restore gone wrong, tampering) is for `audit verify` to
    // report, not for the config to paper over.
    const mismatch = compareReplay(stored, events);
    if (mismatch.length > 0) {
      deps.log.warn({ mismatch: mismatch.slice(0, 5) }, 'stored control state does not match its events; config defaults not compared (run audit verify)');
      return [];
    }
    const drift = configDrift(engine.config, stored, events);
    if (drift.length === 0) return [];
    const state = await engine.state();
    const change = engine.change(state, 'config');
    for (const d of drift) change.applyConfigDefaults(d.cluster, d.limits, d.previous, source);
    const traceId = shortId();
    const version = shortId(12);
    const result = await store.commit({
      expectedSeq: state.seq,
      version,
      events: change.events,
      state: { ...change.state, seq: state.seq + change.events.length, version },
      audit: {
        at: change.at,
        platform: 'system',
        userId: 'config',
        userName: 'config file',
        rawText: `config ${source}`,
        command: 'config',
        args: { source, changes: drift },
        outcome: 'ok',
        traceId,
        invocationId: `config-${shortId(12)}`,
      },
    });
    if (result.ok) {
      deps.log.info({ source, drift, traceId }, 'config defaults changed since the state was stored; recorded as control events');
      return result.events;
    }
  }
  deps.log.warn({ source }, 'config defaults not recorded: the control state kept changing; will try at the next start');
  return [];
}
