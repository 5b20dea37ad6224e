import { randomBytes } from 'node:crypto';

/** Short ids people can read aloud and quote in a ticket: 10 lower-case base32 characters. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export function shortId(length = 10): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}
