import type Database from 'better-sqlite3';
import type { Role } from '../auth/roles.js';
import type { ApiKey, ApiKeyStore } from './api-key-store.js';

interface ApiKeyRow {
  id: string;
  name: string;
  role: string;
  clusters: string | null;
  secret_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}

const fromRow = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  name: r.name,
  role: r.role as Role,
  ...(r.clusters !== null ? { clusters: JSON.parse(r.clusters) as string[] } : {}),
  secretHash: r.secret_hash,
  createdBy: r.created_by,
  createdAt: r.created_at,
  ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}),
  ...(r.revoked_at !== null ? { revokedAt: r.revoked_at } : {}),
  ...(r.revoked_by !== null ? { revokedBy: r.revoked_by } : {}),
});

/** The API key store on the app's SQLite database (migrated by the main store). */
export function createSqliteApiKeyStore(db: Database.Database): ApiKeyStore {
  const q = {
    get: db.prepare('SELECT * FROM api_keys WHERE id = ?'),
    list: db.prepare('SELECT * FROM api_keys ORDER BY created_at, id'),
    insert: db.prepare(
      `INSERT INTO api_keys (id, name, role, clusters, secret_hash, created_by, created_at, expires_at)
       VALUES (@id, @name, @role, @clusters, @secret_hash, @created_by, @created_at, @expires_at)`,
    ),
    revoke: db.prepare('UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL'),
    claim: db.prepare('INSERT INTO api_idempotency (key_id, idem_key, request_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key_id, idem_key) DO NOTHING'),
    claimed: db.prepare('SELECT request_hash FROM api_idempotency WHERE key_id = ? AND idem_key = ?').pluck(),
    prune: db.prepare('DELETE FROM api_idempotency WHERE created_at < ?'),
  };
  return {
    get: async (id) => {
      const row = q.get.get(id) as ApiKeyRow | undefined;
      return row ? fromRow(row) : undefined;
    },
    list: async () => (q.list.all() as ApiKeyRow[]).map(fromRow),
    insertSync: (k) => {
      q.insert.run({
        id: k.id,
        name: k.name,
        role: k.role,
        clusters: k.clusters ? JSON.stringify(k.clusters) : null,
        secret_hash: k.secretHash,
        created_by: k.createdBy,
        created_at: k.createdAt,
        expires_at: k.expiresAt ?? null,
      });
    },
    revokeSync: (id, by, at) => q.revoke.run(at, by, id).changes > 0,
    claimIdempotencyKey: async (keyId, idemKey, requestHash, at) => {
      if (q.claim.run(keyId, idemKey, requestHash, at).changes > 0) return 'new';
      return q.claimed.get(keyId, idemKey) === requestHash ? 'same' : 'different';
    },
    prune: async (before) => q.prune.run(before).changes,
  };
}
