import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** An Ed25519 key pair like the one Discord signs interactions with; the public half as the portal shows it (hex). */
export function makeSigningKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' });
  const publicHex = Buffer.from(jwk.x!, 'base64url').toString('hex');
  return { publicHex, privateKey };
}

export function signedHeaders(privateKey: KeyObject, body: string, timestamp = String(Math.floor(Date.now() / 1000))) {
  return {
    'content-type': 'application/json',
    'x-signature-ed25519': sign(null, Buffer.from(timestamp + body), privateKey).toString('hex'),
    'x-signature-timestamp': timestamp,
  };
}
