import type { Logger } from 'pino';
import type { HealthStore, Target } from '../../store/health-store.js';
import { shortId } from '../../util/ids.js';
import type { Clock } from '../ports.js';
import { systemReply } from './render-notification.js';

/** Outbox ids of dead-letter notices start with this (never announced themselves). */
const DEAD_LETTER_NOTICE = 'dln';

export interface DeadLetteredJob {
  notificationId: string;
  platform: string;
  channel: string;
  createdAt: string;
}

/**
 * Tells the admins' channels, once per give-up, which notifications never reached their channel: a log line
 * alone is read by nobody at 3 a.m. The notice is a plain outbox job; a notice that is itself given up is not
 * announced again (no loop when every platform is down).
 */
export async function announceDeadLetters(
  deps: { health: HealthStore; clock: Clock; log: Logger; kick: () => void; targets: () => Target[] },
  jobs: readonly DeadLetteredJob[],
): Promise<void> {
  const lost = jobs.filter((j) => !j.notificationId.startsWith(DEAD_LETTER_NOTICE));
  if (lost.length === 0) return;
  const now = deps.clock.now();
  const where = [...new Set(lost.map((j) => `${j.platform}:${j.channel}`))].sort();
  const body = systemReply(
    {
      title: `📭 ${lost.length === 1 ? 'A notification' : `${lost.length} notifications`} could not be delivered and ${lost.length === 1 ? 'was' : 'were'} given up`,
      text: `To ${where.join(', ')}; oldest written ${lost.map((j) => j.createdAt).sort()[0]!.slice(0, 16).replace('T', ' ')}Z. Alerts in ${lost.length === 1 ? 'it' : 'them'} were never shown there: check \`alert list\`, and the chat token or the process serving that platform.`,
      severity: 'critical',
      hint: 'alert list',
    },
    now,
  );
  const notificationId = `${DEAD_LETTER_NOTICE}${shortId(6)}`;
  try {
    await deps.health.commit({ outbox: deps.targets().map((t) => ({ ...t, notificationId, op: 'reply' as const, body })) }, now.toISOString());
    deps.kick();
  } catch (err) {
    deps.log.error({ err }, 'could not queue the dead-letter notice');
  }
}
