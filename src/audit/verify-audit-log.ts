import type { Store } from '../store/store.js';
import { checkpointProblem, FIRST_PREV, type Checkpoint } from './checkpoint.js';
import { compareReplay } from './compare-replay.js';
import { MerkleFrontier } from './merkle.js';
import { trustedKeys } from './signing-key.js';
import type { WitnessContents } from './witness-file.js';

/** One problem found, with the first audit record it affects when there is one. */
export interface Finding {
  firstRecord?: number;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  /** The highest record id in the log. */
  records: number;
  /** Checkpoints in the database, and how many a witness confirmed. */
  checkpoints: number;
  witnessed: number;
  /** The newest checkpoint that verified, for comparing with a chat witness by eye. */
  latest?: Checkpoint;
  /** Records written after the newest checkpoint (covered by the chain only, until the next checkpoint). */
  uncovered: number;
  findings: Finding[];
  /** What was checked against what, in words, for the reply. */
  notes: string[];
}

export interface VerifyAuditOptions {
  store: Store;
  /** Public keys trusted from outside the database (key directory, config, --pubkey). */
  anchors: readonly string[];
  /** Checkpoints witnessed outside the database; undefined when there is no witness to compare with. */
  witness?: { source: string; contents: WitnessContents };
}

/**
 * The full check an insider cannot fool: the hash chain and each record's events; every checkpoint's
 * signature (a trusted key), its link to the one before and the chain hash it signed; the
 * witnessed checkpoints against the database (a rewritten chain, a truncated log or an older database, a
 * fork, an unknown key); and a replay of the control events against the stored state and role grants.
 */
export async function verifyAuditLog(opts: VerifyAuditOptions): Promise<AuditVerification> {
  const { store } = opts;
  const findings: Finding[] = [];
  const notes: string[] = [];
  const dbCheckpoints = await store.checkpoints();
  const witnessed = opts.witness?.contents.checkpoints ?? [];
  const trusted = trustedKeys(opts.anchors, [...(await store.keyRotations()), ...(opts.witness?.contents.rotations ?? [])]);

  // One pass over the chain, noting the hash at every record a checkpoint (stored or witnessed) ends at. The
  // chain hash at a checkpoint's last record vouches for every record up to it, so the Merkle root is not
  // rebuilt here: the bot checked it against the previous signed root before signing, and `audit prove`
  // rebuilds it for each proof (skipping it keeps verification within a few percent of the bare walk).
  const marks = new Map<number, string | undefined>();
  for (const cp of [...dbCheckpoints, ...witnessed]) marks.set(cp.lastId, undefined);
  const walk = await store.walkAudit({
    keepGoing: true,
    onRecord: (id, hash) => {
      if (marks.has(id)) marks.set(id, hash);
    },
  });
  // The highest record id present: past a broken record the walk went on, so checkpoints are still compared.
  const records = walk.lastId;
  let witnessedCount = 0;
  if (walk.problem) findings.push({ firstRecord: walk.problem.firstBad, message: `record ${walk.problem.firstBad}: ${walk.problem.problem}` });
  if ((walk.head?.lastId ?? 0) !== walk.lastId || (walk.head && walk.head.lastHash !== walk.lastHash)) {
    findings.push({
      firstRecord: Math.min(walk.lastId, walk.head?.lastId ?? 0) + 1,
      message: walk.head
        ? `the chain ends at record ${walk.lastId} but the head says ${walk.head.lastId} were written (records deleted from the end)`
        : `the chain head is missing although ${walk.lastId} records exist`,
    });
  }

  /** Does the log as it is now match what this checkpoint signed? */
  const mismatch = (cp: Checkpoint): string | undefined => {
    if (cp.lastId > records) return `it covers records up to ${cp.lastId} but the log now ends at ${records}`;
    return marks.get(cp.lastId) === cp.chainHash ? undefined : `the chain at record ${cp.lastId} no longer has the hash it signed`;
  };

  /**
   * The exact record a rewrite starts at, when the database still holds the chain hashes checkpoint `cp`
   * recorded for its records. They are trusted only if, added to the previous checkpoint's compact range,
   * they give the root `cp` signed; undefined when that evidence is gone or does not hold.
   */
  const pinpoint = async (cp: Checkpoint): Promise<number | undefined> => {
    const prev = dbCheckpoints.find((c) => c.seq === cp.seq - 1);
    if (cp.seq > 1 && (!prev || checkpointProblem(prev, trusted))) return undefined;
    const tree = prev ? new MerkleFrontier(prev.lastId, [...prev.frontier]) : new MerkleFrontier();
    if (prev && (!tree.wellFormed() || tree.root() !== prev.root)) return undefined;
    const from = tree.size;
    const leaves = await store.checkpointLeaves(cp.seq);
    if (!leaves || leaves.length !== cp.lastId - from) return undefined;
    for (const leaf of leaves) tree.append(leaf);
    if (tree.root() !== cp.root) return undefined;
    const now = await store.auditHashes(from, cp.lastId);
    const i = leaves.findIndex((leaf, k) => now[k] !== leaf);
    return i < 0 ? undefined : from + i + 1;
  };
  const exactly = (id: number, cp: Checkpoint) => `record ${id} is not the one checkpoint #${cp.seq} signed (it was changed and the chain recomputed after it)`;

  // The database's own checkpoints: signed by a trusted key, linked, and matching the log.
  let latest: Checkpoint | undefined;
  let prevCp: Checkpoint | undefined;
  const soundInDb = new Set<string>(); // hash + signature of database checkpoints whose signature held
  for (const cp of dbCheckpoints) {
    const first = (prevCp?.lastId ?? 0) + 1;
    const signed = checkpointProblem(cp, trusted);
    if (!signed) soundInDb.add(`${cp.hash} ${cp.signature}`);
    const drift = mismatch(cp);
    const problem =
      signed ??
      (cp.seq !== (prevCp?.seq ?? 0) + 1 ? `it follows checkpoint #${prevCp?.seq ?? 0} (a checkpoint is missing)` : undefined) ??
      (cp.prev !== (prevCp?.hash ?? FIRST_PREV) ? 'its previous-checkpoint hash does not match the checkpoint before it' : undefined) ??
      (cp.lastId <= (prevCp?.lastId ?? 0) || cp.count !== cp.lastId ? 'its record range does not follow the checkpoint before it' : undefined) ??
      drift;
    const exact = problem && problem === drift && cp.lastId <= records ? await pinpoint(cp) : undefined;
    if (problem) {
      findings.push({
        firstRecord: exact ?? Math.min(first, records + 1),
        message: `checkpoint #${cp.seq} in the database (records ${first}–${cp.lastId}): ${problem}${exact ? `; ${exactly(exact, cp)}` : ''}`,
      });
    } else latest = cp;
    prevCp = cp;
  }

  // The witness: checkpoints the database cannot rewrite.
  if (opts.witness) {
    const { source, contents } = opts.witness;
    for (const line of contents.unreadable) findings.push({ message: `${source} line ${line} is not a checkpoint or key rotation` });
    const bySeq = new Map(dbCheckpoints.map((c) => [c.seq, c]));
    const sorted = [...witnessed].sort((a, b) => a.seq - b.seq);
    let confirmed = 0;
    let lastGood = 0; // highest record a witnessed checkpoint still vouches for
    const seen = new Map<number, Checkpoint>();
    for (const w of sorted) {
      const first = lastGood + 1;
      // The same statement and signature as a database checkpoint already checked: the same answer.
      const signed = soundInDb.has(`${w.hash} ${w.signature}`) ? undefined : checkpointProblem(w, trusted);
      if (signed) {
        findings.push({ firstRecord: first, message: `witnessed checkpoint #${w.seq} (${source}): ${signed}` });
        continue;
      }
      const twin = seen.get(w.seq);
      if (twin && twin.hash !== w.hash) {
        findings.push({ firstRecord: first, message: `fork: ${source} holds two different checkpoints #${w.seq} (${twin.hash.slice(0, 16)}… and ${w.hash.slice(0, 16)}…)` });
      }
      if (twin) continue; // a repeated line (files concatenated) counts once
      seen.set(w.seq, w);
      const db = bySeq.get(w.seq);
      const drift = mismatch(w);
      if (w.lastId > records) {
        findings.push({
          firstRecord: records + 1,
          message: `records ${records + 1}–${w.lastId} are missing: checkpoint #${w.seq} witnessed in ${source} covers them (the log was truncated or an older database restored)`,
        });
      } else if (db && db.hash !== w.hash) {
        findings.push({ firstRecord: first, message: `fork at checkpoint #${w.seq}: the database holds ${db.hash.slice(0, 16)}…, ${source} witnessed ${w.hash.slice(0, 16)}…${drift ? `; ${drift}` : ''}` });
      } else if (drift) {
        const exact = await pinpoint(w);
        findings.push({
          firstRecord: exact ?? first,
          message: exact
            ? `${exactly(exact, w)}: witnessed checkpoint #${w.seq} (records up to ${w.lastId}) fails: ${drift}`
            : `records after ${lastGood} were rewritten: witnessed checkpoint #${w.seq} (records up to ${w.lastId}) fails: ${drift}`,
        });
      } else if (!db) {
        findings.push({ firstRecord: first, message: `checkpoint #${w.seq} witnessed in ${source} is missing from the database` });
      } else {
        confirmed++;
        lastGood = Math.max(lastGood, w.lastId);
      }
    }
    const newestDb = dbCheckpoints.at(-1);
    const newestWitness = sorted.at(-1);
    if (newestDb && (!newestWitness || newestWitness.seq < newestDb.seq)) {
      notes.push(`${newestDb.seq - (newestWitness?.seq ?? 0)} newer checkpoint(s) in the database are not in ${source} (expected only if the file was written elsewhere)`);
    }
    notes.push(`${confirmed} of ${sorted.length} witnessed checkpoints match the database (${source})`);
    witnessedCount = confirmed;
  } else if (dbCheckpoints.length > 0) {
    findings.push({ message: `no witness to check the ${dbCheckpoints.length} checkpoints against: a rewritten chain or an older database would not be noticed (give --witness <file>)` });
  }

  // Control events and the state they produce.
  const { state, events } = await store.controlSnapshot();
  for (const p of compareReplay(state, events)) findings.push({ message: `stored state differs from the replay of ${events.length} control events: ${p}` });

  findings.sort((a, b) => (a.firstRecord ?? Infinity) - (b.firstRecord ?? Infinity));
  return {
    ok: findings.length === 0,
    records,
    checkpoints: dbCheckpoints.length,
    witnessed: witnessedCount,
    ...(latest ? { latest } : {}),
    uncovered: Math.max(0, records - (latest?.lastId ?? 0)),
    findings,
    notes,
  };
}

const count = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** "3,500 records, 7 signed checkpoints (7 confirmed by the witness)": the one wording every surface uses. */
export const describeVerified = (v: AuditVerification, witness = 'the witness') =>
  `${count(v.records, 'record')}, ${count(v.checkpoints, 'signed checkpoint')} (${v.witnessed} confirmed by ${witness})`;
