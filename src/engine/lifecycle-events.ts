import type { Logger } from 'pino';
import type { AuditRecord } from '../audit/audit-record.js';
import type { StoredEvent } from './control-events.js';
import type { ControlState } from './control-state.js';

/**
 * The post-commit spine: facts that have landed in the store, for whoever reacts to them (metrics, the control
 * channel, the audit checkpointer, the outbox). Nothing here is emitted before its commit landed, so a
 * subscriber never acts on a change that was rolled back. Every event carries the trace id a user can quote.
 */
export type LifecycleEvent =
  /** Any commit that landed (commands, buttons, schedules, remediation, config changes): its audit record and events. */
  | { type: 'command.committed'; traceId: string; audit: AuditRecord; events: StoredEvent[]; state?: ControlState; commitMs: number }
  /** The command was authorized and ran (or asked for a confirmation); its audit record landed. */
  | { type: 'command.accepted'; traceId: string; audit: AuditRecord }
  /** The caller lacked the role; the denial is audited. */
  | { type: 'command.denied'; traceId: string; audit: AuditRecord }
  /** Bad input (outcome invalid) or a failure (outcome failed); audited. */
  | { type: 'command.failed'; traceId: string; audit: AuditRecord }
  /** An invocation was answered (duplicates too): what metrics count and time. */
  | { type: 'command.finished'; traceId: string; command?: string; platform: string; outcome: string; durationMs: number }
  /** Emitted by the health monitor once an alert's state change committed. */
  | { type: 'alert.fired'; traceId: string; alertId: string; check: string; cluster?: string; severity: string; at: string }
  | { type: 'alert.resolved'; traceId: string; alertId: string; check: string; cluster?: string; at: string }
  | { type: 'incident.changed'; traceId: string; incidentId: string; status: string; cluster?: string; at: string; actor: string };

export type LifecycleEventType = LifecycleEvent['type'];
export type LifecycleEventOf<T extends LifecycleEventType> = Extract<LifecycleEvent, { type: T }>;

/** The port the engine (and the store decorator) emit through; call it only after the commit landed. */
export type EmitLifecycle = (event: LifecycleEvent) => void;

export interface Lifecycle {
  readonly emit: EmitLifecycle;
  /** Subscribes to one kind of event; returns the unsubscribe function. */
  on<T extends LifecycleEventType>(type: T, subscriber: (event: LifecycleEventOf<T>) => void): () => void;
}

/**
 * A synchronous in-process bus. Subscribers run in subscription order, each isolated: one that throws is
 * logged with the event's trace id and the rest still run, and emit never throws (a reply must not fail
 * because metrics did). Subscribers that do slow work start it and return (fire and forget, own error handling).
 */
export function createLifecycle(log: Pick<Logger, 'error'>): Lifecycle {
  const subscribers = new Map<LifecycleEventType, ((event: LifecycleEvent) => void)[]>();
  return {
    emit(event) {
      for (const subscriber of subscribers.get(event.type) ?? []) {
        try {
          subscriber(event);
        } catch (err) {
          log.error({ err, traceId: event.traceId, lifecycle: event.type }, 'lifecycle subscriber failed; the others still ran');
        }
      }
    },
    on(type, subscriber) {
      const list = subscribers.get(type) ?? [];
      const entry = subscriber as (event: LifecycleEvent) => void;
      subscribers.set(type, [...list, entry]);
      return () => subscribers.set(type, (subscribers.get(type) ?? []).filter((s) => s !== entry));
    },
  };
}

/** The kind of outcome event an audited outcome is. */
export function outcomeEvent(outcome: AuditRecord['outcome']): 'command.accepted' | 'command.denied' | 'command.failed' | undefined {
  switch (outcome) {
    case 'ok':
    case 'confirm':
      return 'command.accepted';
    case 'denied':
      return 'command.denied';
    case 'invalid':
    case 'failed':
      return 'command.failed';
    case 'duplicate':
      return undefined;
  }
}
