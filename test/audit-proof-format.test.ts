/** The proof format as docs/audit.md describes it, checked with node:crypto alone (no infrabot code). */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { proveRecord } from '../src/audit/record-proof.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let app: TestApp;
afterEach(async () => app?.cleanup());

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const node = (l: string, r: string) => sha(Buffer.concat([Buffer.from([1]), Buffer.from(l + r)]));

/** RFC 9162 §2.1.3.2, as written there. */
function rootFromPath(leaf: string, index: number, size: number, path: string[]): string | undefined {
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else r = node(r, p);
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 ? r : undefined;
}

it('a proof checks with nothing but the documented rules and the public key', async () => {
  app = await createTestApp();
  for (const t of ['status', 'cluster disable api --reason "bad deploy" --yes', 'whoami', 'role grant local:x viewer', 'status api']) await app.run(t);
  await app.audit.checkpointer.checkpoint();
  const publicKey = app.audit.key.publicKey;
  for (let id = 1; id <= 5; id++) {
    const { proof } = JSON.parse(JSON.stringify(await proveRecord(app.store, id)));
    const fields = proof.fields[14] === null && proof.fields[15] === null ? proof.fields.slice(0, 14) : proof.fields;
    const leaf = sha(`${proof.prevHash}\n${JSON.stringify(fields)}`);
    const statement = JSON.parse(proof.checkpoint.statement);
    expect(rootFromPath(leaf, proof.leafIndex, proof.treeSize, proof.path)).toBe(statement.root);
    expect(proof.treeSize).toBe(statement.lastId);
    const x = publicKey.slice('ed25519:'.length);
    expect(sha(x).slice(0, 16)).toBe(statement.keyId);
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    expect(verify(null, Buffer.from(proof.checkpoint.statement), key, Buffer.from(proof.checkpoint.signature, 'base64url'))).toBe(true);
  }
});
