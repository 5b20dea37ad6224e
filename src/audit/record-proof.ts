import type { Store } from '../store/store.js';
import { HASHED_COLUMNS, hashAuditFields } from './audit-record.js';
import { checkpointFromJson, checkpointProblem, type Checkpoint } from './checkpoint.js';
import { inclusionPath, MerkleFrontier, verifyInclusion } from './merkle.js';
import { trustedKeys, type KeyRotation } from './signing-key.js';

export const PROOF_FORMAT = 'infrabot-audit-proof/1';

/**
 * Everything needed to show one record was in the log, checkable with only a public key: the record's hashed
 * fields and previous hash (giving its chain hash, the Merkle leaf), the RFC 6962 audit path to the root of
 * a signed checkpoint, the checkpoint itself, and the key rotations that link its key to older ones.
 */
export interface RecordProof {
  format: typeof PROOF_FORMAT;
  /** Names of `fields`, in order. */
  columns: string[];
  fields: unknown[];
  prevHash: string;
  leafIndex: number;
  treeSize: number;
  path: string[];
  checkpoint: { statement: string; signature: string };
  rotations: KeyRotation[];
}

const COLUMNS = HASHED_COLUMNS.split(', ');

/** Builds the proof of record `id` against the first checkpoint that covers it. Throws with a clear message. */
export async function proveRecord(store: Store, id: number): Promise<{ proof: RecordProof; checkpoint: Checkpoint }> {
  const record = await store.auditFields(id);
  if (!record) throw new Error(`there is no audit record ${id}`);
  const cp = (await store.checkpoints()).find((c) => c.lastId >= id);
  if (!cp) throw new Error(`record ${id} is not covered by a signed checkpoint yet; run "infrabot audit checkpoint" or wait for the next one`);
  const leaves = await store.leafHashes(cp.lastId);
  const tree = new MerkleFrontier();
  for (const leaf of leaves) tree.append(leaf);
  if (leaves.length !== cp.lastId || tree.root() !== cp.root || hashAuditFields(record.prevHash, record.fields) !== leaves[id - 1]) {
    throw new Error(`the database no longer matches checkpoint #${cp.seq}; run "infrabot audit verify"`);
  }
  const proof: RecordProof = {
    format: PROOF_FORMAT,
    columns: COLUMNS,
    fields: record.fields,
    prevHash: record.prevHash,
    leafIndex: id - 1,
    treeSize: cp.lastId,
    path: inclusionPath(leaves, id - 1),
    checkpoint: { statement: cp.statement, signature: cp.signature },
    rotations: await store.keyRotations(),
  };
  return { proof, checkpoint: cp };
}

export type ProofCheck =
  | { ok: true; record: Record<string, unknown>; checkpoint: Checkpoint }
  | { ok: false; problem: string };

/** Verifies a proof with nothing but the trusted public key(s): no database, no network. */
export function checkRecordProof(value: unknown, publicKeys: readonly string[]): ProofCheck {
  const p = value as Partial<RecordProof> | null;
  if (!p || typeof p !== 'object' || p.format !== PROOF_FORMAT) return { ok: false, problem: `not an ${PROOF_FORMAT} proof` };
  if (!Array.isArray(p.fields) || p.fields.length !== COLUMNS.length || typeof p.prevHash !== 'string' || !Array.isArray(p.path) || !p.path.every((h) => typeof h === 'string')) {
    return { ok: false, problem: 'the proof is incomplete (record fields, previous hash or path missing)' };
  }
  const cp = checkpointFromJson(p.checkpoint);
  if (!cp) return { ok: false, problem: 'the proof carries no readable checkpoint' };
  const signed = checkpointProblem(cp, trustedKeys(publicKeys, Array.isArray(p.rotations) ? p.rotations : []));
  if (signed) return { ok: false, problem: `checkpoint #${cp.seq}: ${signed}` };
  const id = p.fields[0];
  if (typeof id !== 'number' || p.leafIndex !== id - 1 || p.treeSize !== cp.lastId) return { ok: false, problem: 'the record id, leaf index and tree size do not agree with the checkpoint' };
  const leaf = hashAuditFields(p.prevHash, p.fields);
  if (!verifyInclusion(leaf, id - 1, cp.lastId, p.path, cp.root)) {
    return { ok: false, problem: `record ${id} as given is not in the log signed by checkpoint #${cp.seq} (its contents or the path were changed)` };
  }
  return { ok: true, record: Object.fromEntries(COLUMNS.map((c, i) => [c, p.fields![i]])), checkpoint: cp };
}
