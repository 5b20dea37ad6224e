import type { Reply } from '../../src/framework/reply.js';
import type { TestApp } from '../helpers/test-app.js';

/** Result posts the schedules queued in the durable outbox, oldest first. */
export function posts(app: TestApp): { platform: string; channel: string; body: Reply }[] {
  return (app.db!.prepare("SELECT platform, channel, body FROM outbox WHERE notification_id LIKE 'schedule:%' ORDER BY seq").all() as { platform: string; channel: string; body: string }[]).map(
    (r) => ({ platform: r.platform, channel: r.channel, body: JSON.parse(r.body) as Reply }),
  );
}

/** Audit records of schedule firings (platform `schedule`), oldest first. */
export function firingAudits(app: TestApp): { user_id: string; invocation_id: string; outcome: string; raw_text: string; error: string | null }[] {
  return app.db!.prepare("SELECT user_id, invocation_id, outcome, raw_text, error FROM audit WHERE platform = 'schedule' ORDER BY id").all() as never;
}

/** The id a schedule add / time-limited reply names ("(ab12cd34)" or "revert ab12cd34"). */
export function scheduleId(reply: Reply): string {
  const m = /\(([A-Za-z0-9_-]{8})\)/.exec(reply.title) ?? /revert ([A-Za-z0-9_-]{8})/.exec(reply.text ?? '');
  if (!m) throw new Error(`no schedule id in ${reply.title} / ${reply.text}`);
  return m[1]!;
}
