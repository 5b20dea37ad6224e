import { sql } from './db/sql.js';
import type { SqlExecutor } from './db/sql-db.js';
import type { OutboxDraft } from './health-store.js';

/**
 * Outbox rows written inside the unit of work that decided them (an alert and the post announcing it commit
 * together). Owned by the delivery work: claiming, completing and retrying move here from the health store.
 */
export async function enqueueOutbox(tx: SqlExecutor, drafts: readonly OutboxDraft[], at: string): Promise<void> {
  if (drafts.length === 0) return;
  // TODO(outbox): ids from an identity column (migration 14); MAX+1 is only safe while writers are serialized.
  let seq = Number((await tx.one<{ seq: number }>(sql`SELECT COALESCE(MAX(seq), 0) AS seq FROM outbox`))?.seq ?? 0);
  for (const o of drafts) {
    await tx.run(sql`INSERT INTO outbox (seq, notification_id, platform, channel, op, body, created_at, status, attempts, next_attempt_at)
      VALUES (${++seq}, ${o.notificationId}, ${o.platform}, ${o.channel}, ${o.op}, ${o.body ? JSON.stringify(o.body) : null}, ${at}, 'pending', 0, ${at})`);
  }
}
