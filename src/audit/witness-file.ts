import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkpointFromJson, type Checkpoint } from './checkpoint.js';
import type { KeyRotation } from './signing-key.js';

/**
 * The checkpoint file outside the data directory: one JSON line per checkpoint or key rotation, append-only.
 * It is what `audit verify --witness` checks the database against, and what `audit checkpoints export` writes.
 * A JSON log (infrabot's pino lines, as shipped to a SIEM) reads as a witness too: its checkpoint and key
 * rotation lines count, every other log line is skipped.
 */
export type WitnessLine = ({ type: 'checkpoint'; publicKey?: string } & Pick<Checkpoint, 'statement' | 'signature' | 'hash'>) | ({ type: 'key-rotation' } & KeyRotation);

export const checkpointLineOf = (cp: Checkpoint, publicKey?: string): WitnessLine => ({
  type: 'checkpoint',
  statement: cp.statement,
  signature: cp.signature,
  hash: cp.hash,
  ...(publicKey ? { publicKey } : {}),
});

export function appendWitness(file: string, line: WitnessLine): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, JSON.stringify(line) + '\n', { mode: 0o600 });
}

export interface WitnessContents {
  checkpoints: Checkpoint[];
  rotations: KeyRotation[];
  /** Lines that are not a checkpoint or rotation (reported, never silently skipped). */
  unreadable: number[];
}

/** Reads a witness file; throws with the path when it cannot be read at all. */
export function readWitness(file: string): WitnessContents {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the checkpoint file ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const out: WitnessContents = { checkpoints: [], rotations: [], unreadable: [] };
  text.split('\n').forEach((raw, i) => {
    if (!raw.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      out.unreadable.push(i + 1);
      return;
    }
    const v = value as { type?: unknown; msg?: unknown; auditCheckpoint?: unknown; rotation?: unknown };
    if (v.type === 'key-rotation') out.rotations.push(value as KeyRotation);
    else if (v.type === 'checkpoint' || v.auditCheckpoint) {
      const cp = checkpointFromJson(v.type === 'checkpoint' ? value : v.auditCheckpoint);
      if (cp) out.checkpoints.push(cp);
      else out.unreadable.push(i + 1);
    } else if (v.rotation && typeof v.msg === 'string') out.rotations.push(v.rotation as KeyRotation);
    else if (typeof v.msg !== 'string') out.unreadable.push(i + 1); // other log lines are not witnesses: skipped
  });
  return out;
}
