import { createHash } from 'node:crypto';
import type { SummaryPostConfig } from '../config/config-schema.js';
import { parseScheduleSpec } from '../engine/schedules/parse-schedule-spec.js';
import { nextFireTimes } from '../engine/schedules/next-fire-times.js';
import type { SqlExecutor } from '../store/db/sql-db.js';
import type { ScheduleStore } from '../store/schedule-store.js';

/** Ids of schedules that come from the config (`schedules.summaries`), never typed in chat. */
export const CONFIGURED_PREFIX = 'cfg-';

/**
 * Makes the stored schedules match the summary posts in the config: each entry is a schedule of `summary`
 * run by `system`, with an id derived from the entry, so every replica inserts the same row (the first
 * wins) and an unchanged entry keeps its state, including a pause or removal done in chat. Entries no longer
 * in the config are removed. Runs on the caller's unit of work `tx`.
 */
export async function syncConfiguredSummaries(
  tx: SqlExecutor,
  store: ScheduleStore,
  entries: readonly SummaryPostConfig[],
  now: Date,
): Promise<{ added: number; removed: number }> {
  const existing = await store.list({}, tx);
  const wanted = new Map(entries.map((e) => [CONFIGURED_PREFIX + createHash('sha256').update(JSON.stringify(e)).digest('hex').slice(0, 10), e]));
  let added = 0;
  let removed = 0;
  for (const [id, e] of wanted) {
    if (existing.some((s) => s.id === id)) continue;
    const { cron, spec } = parseScheduleSpec(e.every === 'daily' ? `daily ${e.at}` : `weekly ${e.day ?? 'mon'} ${e.at}`, e.timezone);
    const [platform, ...rest] = e.channel.split(':');
    const inserted = await store.insert(tx, {
      id, kind: 'command', name: `${e.every} summary${e.cluster ? ` of ${e.cluster}` : ''}`, spec, cron, tz: e.timezone,
      command: `summary --since ${e.since ?? (e.every === 'daily' ? '24h' : '7d')}${e.cluster ? ` --cluster ${e.cluster}` : ''}`,
      authorId: 'system', authorName: 'system (config: schedules.summaries)', platform: platform!, channel: rest.join(':'),
      status: 'active', createdAt: now.toISOString(), nextFireAt: nextFireTimes(cron, e.timezone, now, 1)[0]!.toISOString(), version: 1,
    });
    if (inserted) added++;
  }
  for (const s of existing) {
    if (!s.id.startsWith(CONFIGURED_PREFIX) || wanted.has(s.id) || s.status === 'removed') continue;
    if (await store.update(tx, { ...s, status: 'removed', statusReason: 'no longer in the config' })) removed++;
  }
  return { added, removed };
}
