import type { Reply } from './reply.js';
import type { RoleGrant } from '../auth/roles.js';
import type { SqlExecutor } from '../store/db/sql-db.js';

/** One request to run a command, whatever platform it came from. Adapters build these; nothing else is passed in. */
export type Platform = 'console' | 'cli' | 'slack' | 'discord' | 'http' | 'schedule' | 'system';

export interface InvokingUser {
  /** Platform-qualified id: local:alice, slack:U123ABC, discord:80351110224678912. */
  id: string;
  displayName: string;
  /** Platform-qualified group ids the user belongs to (Slack user groups, Discord guild roles). */
  groups?: string[];
  /** The operating-system account really running a console/CLI command as this user (`--as`); audited. */
  runBy?: string;
}

export interface Invocation {
  /** Delivery id from the platform (retries reuse it), so a duplicate executes once. */
  id: string;
  platform: Platform;
  user: InvokingUser;
  channel?: string;
  /** Text after `/infra` (a leading `/infra` or `infra` is tolerated). */
  text: string;
  /** Set when the user already confirmed a dangerous action (button click or --yes). */
  confirmed?: boolean;
  /**
   * A write on the unit of work `tx` of this invocation's audit record, committed with it whatever the
   * outcome (a schedule records its firing and queues the result post with it). Only in-process callers set it.
   */
  inTransaction?: (reply: Reply, tx: SqlExecutor) => Promise<void>;
  /**
   * The command as structured input (the HTTP API): validated against the subcommand's options instead of
   * parsing `text`, which then only records what was asked for (audit, confirmation hint).
   */
  command?: { name: string; args: Record<string, unknown> };
  /** Trace id chosen by the transport (HTTP `X-Trace-Id`), so the caller's id is the one in the audit log. */
  traceId?: string;
  /**
   * Roles this invocation carries itself (an API key's role and clusters). When set they replace the stored
   * grants and config admins for this invocation: a key can never do more than it was created for.
   */
  grants?: readonly RoleGrant[];
}

/** The platform prefix of a qualified user id ("slack" for "slack:U1"). */
export function userPlatformPrefix(userId: string): string {
  const i = userId.indexOf(':');
  return i > 0 ? userId.slice(0, i) : 'local';
}
