import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { shortId } from '../util/ids.js';

/**
 * API key tokens: `ibk_<id>_<secret>`. The id (12 characters) finds the stored key; only a SHA-256 of the
 * 256-bit random secret is stored. A slow password hash is not needed: the secret is random, not chosen by
 * a person, so it cannot be guessed from its hash by a dictionary.
 */
const TOKEN = /^ibk_([a-z2-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKeySecret {
  id: string;
  token: string;
  secretHash: string;
}

export function newApiKeySecret(): NewApiKeySecret {
  const id = shortId(12);
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `ibk_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The key id and secret of a presented token, or undefined when it is not shaped like one. */
export function parseApiKeyToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Constant-time comparison of a presented secret with a stored hash (both hex digests of equal length). */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
