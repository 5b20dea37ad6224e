import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Discord signs `timestamp + rawBody` with Ed25519; the public key is 32 bytes, shown as hex in the portal. */
export function discordPublicKey(hex: string): KeyObject {
  const raw = Buffer.from(hex, 'hex');
  if (raw.length !== 32) throw new Error('the Discord public key must be 64 hex characters');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The callback form of crypto.verify runs on libuv's thread pool, keeping the event loop free under load. */
function verifyOffThread(data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => verify(null, data, key, signature, (err, ok) => resolve(!err && ok)));
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'bad-signature' | 'stale' | 'replayed' };

export interface SignatureVerifier {
  check(signatureHex: string | undefined, timestamp: string | undefined, rawBody: Buffer): Promise<SignatureCheck>;
}

/**
 * Verifies request signatures. Discord sends no nonce, so a captured request is refused when its timestamp
 * is outside `maxSkewSeconds`, or when the same signature was already accepted within that window.
 */
export function createSignatureVerifier(publicKeyHex: string, opts: { maxSkewSeconds?: number; now?: () => number } = {}): SignatureVerifier {
  const key = discordPublicKey(publicKeyHex);
  const maxSkewMs = (opts.maxSkewSeconds ?? 300) * 1000;
  const now = opts.now ?? Date.now;
  const seen = new Map<string, number>();
  let nextSweep = 0;

  const remember = (signature: string, at: number) => {
    if (at >= nextSweep) {
      for (const [s, expires] of seen) if (expires <= at) seen.delete(s);
      nextSweep = at + 10_000;
    }
    seen.set(signature, at + 2 * maxSkewMs);
  };

  return {
    async check(signatureHex, timestamp, rawBody) {
      if (!signatureHex || !timestamp) return { ok: false, reason: 'missing' };
      if (!/^[0-9a-fA-F]{128}$/.test(signatureHex) || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed' };
      const signed = Buffer.concat([Buffer.from(timestamp), rawBody]);
      if (!(await verifyOffThread(signed, key, Buffer.from(signatureHex, 'hex')))) return { ok: false, reason: 'bad-signature' };
      const at = now();
      if (Math.abs(at - Number(timestamp) * 1000) > maxSkewMs) return { ok: false, reason: 'stale' };
      const signature = signatureHex.toLowerCase();
      if ((seen.get(signature) ?? 0) > at) return { ok: false, reason: 'replayed' };
      remember(signature, at);
      return { ok: true };
    },
  };
}
