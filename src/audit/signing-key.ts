import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';

/** A problem with the audit signing key or its directory; the message names the path and the fix. */
export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

/** The audit signing key as the process uses it: the private half never leaves this object. */
export interface SigningKey {
  /** First 16 hex digits of SHA-256 over the base64url public key (the text after "ed25519:"). */
  readonly keyId: string;
  /** `ed25519:<base64url raw key>`, what `audit pubkey` prints and `check-proof --pubkey` takes. */
  readonly publicKey: string;
  /** Ed25519 signature of the UTF-8 text, base64url. */
  sign(text: string): string;
  /** Where it came from, for messages: the key file, or the environment variable. */
  readonly source: string;
}

export const KEY_FILE = 'audit-signing.key';
export const PUBLIC_FILE = 'audit-signing.pub';
export const KEY_ENV = 'INFRABOT_AUDIT_KEY';

const PREFIX = 'ed25519:';

const rawPublic = (pub: KeyObject) => Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url');
export const formatPublicKey = (pub: KeyObject): string => PREFIX + rawPublic(pub).toString('base64url');
export const keyIdOf = (publicKey: string): string => hash('sha256', parsePublicKey(publicKey).export({ format: 'jwk' }).x!).slice(0, 16);

/** Parses `ed25519:<base64url>` (or a PEM public key); throws SigningKeyError naming the value, in our words (never OpenSSL's). */
export function parsePublicKey(text: string): KeyObject {
  const value = text.trim();
  const fail = (why: string) => {
    const shown = value.length > 60 ? `${value.slice(0, 57)}…` : value;
    return new SigningKeyError(`"${shown}" is not an Ed25519 public key (${why}); expected ed25519:<base64url> as printed by "infrabot audit pubkey"`);
  };
  let key: KeyObject;
  if (value.startsWith(PREFIX)) {
    const x = value.slice(PREFIX.length);
    if (!/^[A-Za-z0-9_-]{43}$/.test(x)) throw fail('not 32 bytes of base64url');
    try {
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    } catch {
      throw fail('not a valid Ed25519 key');
    }
  } else if (value.startsWith('-----BEGIN')) {
    try {
      key = createPublicKey(value);
    } catch {
      throw fail('not a readable PEM public key');
    }
  } else throw fail('it does not start with ed25519:');
  if (key.asymmetricKeyType !== 'ed25519') throw fail(`a ${key.asymmetricKeyType} key`);
  return key;
}

/** Parsed keys by their text: verifying a thousand checkpoints parses the one key once. */
const parsedKeys = new Map<string, KeyObject>();

/** Checks an Ed25519 signature made by SigningKey.sign; false for any malformed input. */
export function verifySignature(publicKey: string, text: string, signature: string): boolean {
  try {
    let key = parsedKeys.get(publicKey);
    if (!key) {
      key = parsePublicKey(publicKey);
      if (parsedKeys.size < 1000) parsedKeys.set(publicKey, key);
    }
    return verify(null, Buffer.from(text), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

function fromPrivate(key: KeyObject, source: string): SigningKey {
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${source}: expected an Ed25519 private key, found ${key.asymmetricKeyType}`);
  const publicKey = formatPublicKey(createPublicKey(key));
  return { keyId: keyIdOf(publicKey), publicKey, source, sign: (text) => sign(null, Buffer.from(text), key).toString('base64url') };
}

/** Reads a private key given as PKCS#8 PEM (escaped newlines allowed) or base64 PKCS#8 DER. */
function parsePrivateKey(text: string, source: string): KeyObject {
  const value = text.trim().replace(/\\n/g, '\n');
  try {
    return value.startsWith('-----BEGIN') ? createPrivateKey(value) : createPrivateKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new SigningKeyError(`${source}: not a private key (${(err as Error).message}); expected PKCS#8 PEM or base64 DER as printed by "infrabot audit rotate-key"`);
  }
}

export const exportPrivateKey = (key: KeyObject) => key.export({ format: 'der', type: 'pkcs8' }).toString('base64');

/** `~/.config/infrabot/keys` (XDG_CONFIG_HOME respected): per operator account, never inside a data directory. */
export const defaultKeyDir = (env: NodeJS.ProcessEnv = process.env) =>
  join(env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config'), 'infrabot', 'keys');

const inside = (child: string, parent: string) => {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** Refuses a path inside the data directory: whoever can copy or restore that directory must not get this. */
export function requireOutsideDataDir(path: string, dataDir: string, what: string): void {
  if (inside(path, dataDir)) {
    throw new SigningKeyError(`${what} ${path} is inside the data directory ${resolve(dataDir)}; put it elsewhere (config audit.keyDir or INFRABOT_KEY_DIR), so that a copy or restore of the data directory cannot touch it`);
  }
}

function requirePrivate(path: string, kind: 'file' | 'directory'): void {
  const mode = statSync(path).mode & 0o777;
  const loose = kind === 'file' ? mode & 0o077 : mode & 0o022;
  if (loose) {
    const want = kind === 'file' ? '600' : '700';
    throw new SigningKeyError(`${path} has mode ${mode.toString(8).padStart(4, '0')}; the audit signing key ${kind} must not be ${kind === 'file' ? 'readable' : 'writable'} by others. Fix it with: chmod ${want} ${path}`);
  }
}

export interface KeyLocation {
  keyDir: string;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The audit signing key: from INFRABOT_AUDIT_KEY when set (containers), else the key directory, where a new
 * key pair is created on first start (directory 0700, key 0600). Refuses a key directory inside the data
 * directory and key files others can read.
 */
export function loadSigningKey({ keyDir, dataDir, env = process.env }: KeyLocation): SigningKey {
  const fromEnv = env[KEY_ENV];
  if (fromEnv) return fromPrivate(parsePrivateKey(fromEnv, KEY_ENV), KEY_ENV);
  requireOutsideDataDir(keyDir, dataDir, 'the audit key directory');
  const file = join(keyDir, KEY_FILE);
  let text: string;
  try {
    if (!existsSync(file)) {
      mkdirSync(keyDir, { recursive: true, mode: 0o700 });
      requirePrivate(keyDir, 'directory');
      const { privateKey } = generateKeyPairSync('ed25519');
      writeKeyFiles(keyDir, privateKey);
    }
    requirePrivate(keyDir, 'directory');
    requirePrivate(file, 'file');
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof SigningKeyError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new SigningKeyError(`cannot use the audit key directory ${keyDir} (${e.code ?? e.message}${e.path ? ` on ${e.path}` : ''}); set audit.keyDir or INFRABOT_KEY_DIR to a directory this user can create and own`);
  }
  return fromPrivate(parsePrivateKey(text, file), file);
}

/**
 * Writes the key under a temporary name first, so a crash never leaves a half-written key in place. A new
 * key is linked into place only if none is there (two replicas starting at once: the first one's key
 * stands, the other reads it); a rotation replaces the old one.
 */
function writeKeyFiles(keyDir: string, privateKey: KeyObject, replace = false): void {
  const file = join(keyDir, KEY_FILE);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    if (replace) renameSync(tmp, file);
    else linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return; // someone else's key won the race: use theirs
  } finally {
    rmSync(tmp, { force: true });
  }
  writeFileSync(join(keyDir, PUBLIC_FILE), formatPublicKey(createPublicKey(privateKey)) + '\n', { mode: 0o644 });
}

/** A new key vouched for by the old one and acknowledging it; both signatures cover the same statement. */
export interface KeyRotation {
  at: string;
  oldPublicKey: string;
  newPublicKey: string;
  oldKeyId: string;
  newKeyId: string;
  oldSignature: string;
  newSignature: string;
}

const rotationStatement = (r: Pick<KeyRotation, 'at' | 'oldPublicKey' | 'newPublicKey'>) =>
  `infrabot audit key rotation\nfrom ${r.oldPublicKey}\nto ${r.newPublicKey}\nat ${r.at}`;

export const rotationValid = (r: KeyRotation): boolean =>
  verifySignature(r.oldPublicKey, rotationStatement(r), r.oldSignature) && verifySignature(r.newPublicKey, rotationStatement(r), r.newSignature);

/**
 * Creates a new key signed by the old one. In a key directory the old key file is replaced; with the key in
 * the environment, the caller prints the new private key for the operator to install.
 */
export function rotateSigningKey(
  old: SigningKey,
  at: string,
  keyDir: string | undefined,
): { rotation: KeyRotation; key: SigningKey; privateKeyExport?: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const fresh = fromPrivate(privateKey, keyDir ? join(keyDir, KEY_FILE) : KEY_ENV);
  const base = { at, oldPublicKey: old.publicKey, newPublicKey: fresh.publicKey };
  const statement = rotationStatement(base);
  const rotation: KeyRotation = { ...base, oldKeyId: old.keyId, newKeyId: fresh.keyId, oldSignature: old.sign(statement), newSignature: fresh.sign(statement) };
  if (keyDir) {
    writeKeyFiles(keyDir, privateKey, true);
    return { rotation, key: fresh };
  }
  return { rotation, key: fresh, privateKeyExport: exportPrivateKey(privateKey) };
}

/**
 * Which keys a verifier trusts: the anchors it was given from outside the database (the key directory, the
 * config, --pubkey), and every key linked to a trusted one by a validly dual-signed rotation, in either
 * direction. A rotation read from the database is safe to use: only holders of both keys could make it.
 */
export function trustedKeys(anchors: readonly string[], rotations: readonly KeyRotation[]): Map<string, string> {
  const trusted = new Map<string, string>();
  for (const a of anchors) trusted.set(keyIdOf(a), formatPublicKey(parsePublicKey(a)));
  const valid = rotations.filter((r) => rotationValid(r) && keyIdOf(r.oldPublicKey) === r.oldKeyId && keyIdOf(r.newPublicKey) === r.newKeyId);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of valid) {
      const has = [trusted.has(r.oldKeyId), trusted.has(r.newKeyId)];
      if (has[0] !== has[1]) {
        if (has[0]) trusted.set(r.newKeyId, r.newPublicKey);
        else trusted.set(r.oldKeyId, r.oldPublicKey);
        grew = true;
      }
    }
  }
  return trusted;
}
