import { randomFillSync } from 'node:crypto';

/** Short ids people can read aloud and quote in a ticket: lower-case base32 characters. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

// Random bytes are drawn 4 KiB at a time: one system call per few hundred ids instead of one per id.
const pool = Buffer.alloc(4096);
let offset = pool.length;

export function shortId(length = 10): string {
  if (offset + length > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[pool[offset++]! % ALPHABET.length];
  return out;
}
