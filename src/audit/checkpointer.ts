import type { Logger } from 'pino';
import type { Clock } from '../engine/engine.js';
import type { Store } from '../store/store.js';
import { FIRST_PREV, checkpointLine, checkpointProblem, signCheckpoint, type Checkpoint } from './checkpoint.js';
import { compareReplay } from './compare-replay.js';
import { MerkleFrontier } from './merkle.js';
import { trustedKeys, type SigningKey } from './signing-key.js';
import { appendWitness, checkpointLineOf } from './witness-file.js';

/** A failed checkpoint (e.g. a tampered log) is not retried on every commit: once a minute is enough. */
const RETRY_AFTER_FAILURE_MS = 60_000;

export interface CheckpointerDeps {
  store: Store;
  key: SigningKey;
  /** Checkpoint once this many records are not yet covered. */
  every: number;
  /** …or once the oldest uncovered record is this old (checked by a timer in long-running processes). */
  intervalMs: number;
  /** The checkpoint file outside the data directory. */
  witnessFile: string;
  /** Extra public keys trusted for earlier checkpoints (config audit.trustedKeys). */
  trusted?: readonly string[];
  /** Posts a line to the audit channels (the durable outbox); absent without chat. */
  post?: (message: AuditPost) => Promise<void>;
  clock: Clock;
  log: Logger;
}

export interface AuditPost {
  /** Unique per message (the outbox orders and deduplicates by it). */
  id: string;
  title: string;
  text: string;
  severity: 'info' | 'critical';
}

export interface Checkpointer {
  /** Told after each commit: starts a checkpoint in the background once `every` records are uncovered. */
  appended(lastId: number): void;
  /** Signs a checkpoint over every record not yet covered (if any) and hands it to every witness. */
  checkpoint(): Promise<Checkpoint | undefined>;
  /**
   * Replays the control events and compares them with the stored state; a difference (a grant written
   * straight into the database) is logged as an error and posted to the audit channels. Returns the differences.
   */
  checkState(): Promise<string[]>;
  /** The timer for `intervalMs`: a checkpoint and a state check on every tick, and a state check now. */
  start(): void;
  /** Stops the timer and waits for a checkpoint in progress. */
  stop(): Promise<void>;
}

/**
 * Makes signed checkpoints and gives them to the witnesses: the database, the checkpoint file, the log and
 * the audit chat channels. Before signing it checks the records since the previous checkpoint (and that
 * checkpoint's own signature and tree), so the bot never signs over a log someone edited. Replicas may race
 * for the same checkpoint number; the store keeps the first and the others give up.
 */
export async function createCheckpointer(deps: CheckpointerDeps): Promise<Checkpointer> {
  const { store, key, log } = deps;
  let covered = (await store.latestCheckpoint())?.lastId ?? 0; // highest id covered, as last seen; a hint only
  let running: Promise<Checkpoint | undefined> | undefined;
  let quietUntil = 0; // after a failure, commits stop triggering attempts for a while (the timer still tries)
  let timer: NodeJS.Timeout | undefined;

  async function make(): Promise<Checkpoint | undefined> {
    const prev = await store.latestCheckpoint();
    const frontier = new MerkleFrontier(prev?.lastId ?? 0, prev ? [...prev.frontier] : []);
    if (prev) {
      const trusted = trustedKeys([key.publicKey, ...(deps.trusted ?? [])], await store.keyRotations());
      const problem = checkpointProblem(prev, trusted) ?? (frontier.wellFormed() && frontier.root() === prev.root ? undefined : 'its stored tree does not match its signed root');
      if (problem) throw new Error(`checkpoint #${prev.seq} in the database cannot be trusted: ${problem}; run "infrabot audit verify"`);
    }
    const leaves: string[] = [];
    const walk = await store.walkAudit({
      afterId: prev?.lastId ?? 0,
      ...(prev ? { prevHash: prev.chainHash } : {}),
      onRecord: (_id, hash) => {
        frontier.append(hash);
        leaves.push(hash);
      },
    });
    if (walk.problem) throw new Error(`audit record ${walk.problem.firstBad} fails: ${walk.problem.problem}; run "infrabot audit verify"`);
    covered = walk.lastId;
    if (walk.count === 0) return undefined;
    const cp = signCheckpoint(
      { seq: (prev?.seq ?? 0) + 1, lastId: walk.lastId, chainHash: walk.lastHash, root: frontier.root(), count: walk.lastId, at: deps.clock.now().toISOString(), prev: prev?.hash ?? FIRST_PREV },
      key,
    );
    if (!(await store.appendCheckpoint(cp, frontier.nodes, leaves))) return undefined; // another replica made this one
    witness(cp);
    return cp;
  }

  function witness(cp: Checkpoint): void {
    try {
      appendWitness(deps.witnessFile, checkpointLineOf(cp, key.publicKey));
    } catch (err) {
      log.error({ err, file: deps.witnessFile }, 'audit checkpoint could not be written to the checkpoint file');
    }
    // With the signed statement, a log line is a witness of its own (`audit verify --witness <log file>`).
    log.info({ auditCheckpoint: { seq: cp.seq, lastId: cp.lastId, hash: cp.hash, keyId: cp.keyId, statement: cp.statement, signature: cp.signature } }, 'audit checkpoint');
    deps.post?.({ id: `audit-checkpoint-${cp.hash}`, title: `Audit checkpoint #${cp.seq}`, text: checkpointLine(cp), severity: 'info' }).catch((err: unknown) => log.error({ err, seq: cp.seq }, 'audit checkpoint could not be queued for the audit channels'));
  }

  const checkpoint = () => {
    running ??= make()
      .catch((err: unknown) => {
        quietUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
        log.error({ err }, 'audit checkpoint failed');
        throw err;
      })
      .finally(() => (running = undefined));
    return running;
  };

  async function checkState(): Promise<string[]> {
    const { state, events } = await store.controlSnapshot();
    const problems = compareReplay(state, events);
    if (problems.length > 0) {
      log.error({ problems }, 'stored control state differs from the replay of its events');
      const text = `${problems.slice(0, 5).join('\n')}${problems.length > 5 ? `\n… and ${problems.length - 5} more` : ''}\nRun "infrabot audit verify".`;
      await deps.post?.({ id: `audit-state-${deps.clock.now().toISOString()}`, title: '⚠️ Stored control state differs from its events', text, severity: 'critical' });
    }
    return problems;
  }
  const tick = () => {
    checkpoint().catch(() => undefined);
    checkState().catch((err: unknown) => log.error({ err }, 'audit state check failed'));
  };

  return {
    appended(lastId) {
      if (running || lastId - covered < deps.every || Date.now() < quietUntil) return;
      checkpoint().catch(() => undefined);
    },
    checkpoint,
    checkState,
    start() {
      if (timer) return;
      timer = setInterval(tick, deps.intervalMs).unref();
      checkState().catch((err: unknown) => log.error({ err }, 'audit state check failed'));
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
