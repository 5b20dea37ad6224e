import type { ChatSink } from '../../src/chat/chat-sink.js';
import { createOutboxDeliverer } from '../../src/engine/alerts/outbox-deliverer.js';
import type { Timers } from '../../src/engine/timers.js';
import type { Reply } from '../../src/framework/reply.js';
import type { Alert } from '../../src/store/health-store.js';
import { createTestApp, manualClock, type TestApp } from '../helpers/test-app.js';
import { BASE_CONFIG, cluster } from '../health/health-helpers.js';

/** Timers that never fire: each test drains by hand, after moving the clock. */
const idleTimers: Timers = { setTimeout: () => 0, clearTimeout: () => undefined };

/**
 * An app (real store) with one alert notification routed to `platform`/`channel`, and a deliverer on `sink` with
 * a short deadline. `fire`, `resolve` and `reply` write what the alert manager writes: the alert and a job.
 */
export async function outboxHarness(sink: ChatSink, channel: string, opts: { deliverTimeoutMs?: number } = {}) {
  const clock = manualClock();
  const app: TestApp = await createTestApp({ clock, config: BASE_CONFIG(cluster('api', [])) });
  const health = app.health!.health;
  const deliverer = createOutboxDeliverer({ health, store: app.store, clock, timers: idleTimers, log: app.log, deliverTimeoutMs: opts.deliverTimeoutMs ?? 300 });
  deliverer.addSink(sink);
  const target = { platform: sink.platform, channel };
  const firedAt = clock.now().toISOString();
  const alert: Alert = {
    id: 'a1', dedupKey: 'api-http:down', kind: 'down', cluster: 'api', check: 'api-http', severity: 'critical', status: 'firing',
    summary: 'api-http is DOWN', firedAt, notificationId: 'n1', reminders: 0,
  };
  const at = () => clock.now().toISOString();
  const job = (op: 'sync' | 'reply', body?: Reply) => ({ ...target, notificationId: 'n1', op, ...(body ? { body } : {}) });
  return {
    app,
    clock,
    health,
    deliverer,
    async fire() {
      await health.commit({ alerts: [alert], notifications: [{ id: 'n1', kind: 'alert', cluster: 'api', createdAt: firedAt, targets: [target] }], outbox: [job('sync')] }, at());
    },
    async resolve(then?: Reply) {
      // The stored row with its version: alerts are compare-and-set, a write without it would be refused.
      const stored = (await health.alert(alert.id))!;
      await health.commit({ alerts: [{ ...stored, status: 'resolved', resolvedAt: at(), resolvedBy: 'system' }], outbox: [job('sync'), ...(then ? [job('reply', then)] : [])] }, at());
    },
    async reply(body: Reply) {
      await health.commit({ outbox: [job('reply', body)] }, at());
    },
    /** Moves the clock past any backoff and delivers what is due. */
    async later(ms = 10_000) {
      clock.advance(ms);
      return deliverer.drain();
    },
    rows: () => app.db!.prepare('SELECT seq, op, status, attempts, last_error AS lastError, last_error_kind AS kind FROM outbox ORDER BY seq').all() as {
      seq: number; op: string; status: string; attempts: number; lastError: string | null; kind: string | null;
    }[],
    cleanup: () => app.cleanup(),
  };
}

export const threadNote = (title: string): Reply => ({ title, outcome: 'ok', traceId: 't1', time: '2026-11-21T03:05:00.000Z', severity: 'info', visibility: 'channel' });
