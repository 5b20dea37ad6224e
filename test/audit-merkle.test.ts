import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inclusionPath, MerkleFrontier, nodeHash, verifyInclusion } from '../src/audit/merkle.js';

const leaves = (n: number) => Array.from({ length: n }, (_, i) => hash('sha256', `record ${i}`));

/** RFC 6962 MTH written as plainly as the RFC does, to check the incremental frontier against. */
function mth(d: string[]): string {
  if (d.length === 1) return d[0]!;
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}

describe('Merkle tree (RFC 6962 shape)', () => {
  it('grows incrementally to the RFC 6962 root, and proves every leaf of every size up to 70', () => {
    for (let n = 1; n <= 70; n++) {
      const d = leaves(n);
      const f = new MerkleFrontier();
      for (const l of d) f.append(l);
      expect(f.root()).toBe(mth(d));
      expect(f.wellFormed()).toBe(true);
      for (let i = 0; i < n; i++) {
        const path = inclusionPath(d, i);
        expect(path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyInclusion(d[i]!, i, n, path, f.root())).toBe(true);
      }
    }
  });

  it('refuses a changed leaf, a changed path, the wrong index or the wrong size', () => {
    const d = leaves(37);
    const root = mth(d);
    const path = inclusionPath(d, 20);
    expect(verifyInclusion(d[20]!, 20, 37, path, root)).toBe(true);
    expect(verifyInclusion(d[21]!, 20, 37, path, root)).toBe(false);
    expect(verifyInclusion(d[20]!, 21, 37, path, root)).toBe(false);
    expect(verifyInclusion(d[20]!, 20, 20, path, root)).toBe(false); // the size itself is vouched for by the signed checkpoint
    expect(verifyInclusion(d[20]!, 20, 70, path, root)).toBe(false);
    expect(verifyInclusion(d[20]!, 20, 37, [...path.slice(0, -1), d[0]!], root)).toBe(false);
    expect(verifyInclusion(d[20]!, 20, 37, [...path, d[0]!], root)).toBe(false);
    expect(verifyInclusion(d[20]!, -1, 37, path, root)).toBe(false);
  });
});
