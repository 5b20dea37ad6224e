import type { Role } from '../auth/roles.js';
import type { ApiKey, ApiKeyStore } from './api-key-store.js';
import { sql } from './db/sql.js';
import type { SqlDb } from './db/sql-db.js';

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

/** The API key store on the app's unit of work (either backend; migrated by the main store). */
export function createSqlApiKeyStore(db: SqlDb): ApiKeyStore {
  return {
    get: async (id) => {
      const row = await db.one<ApiKeyRow>(sql`SELECT * FROM api_keys WHERE id = ${id}`);
      return row ? fromRow(row) : undefined;
    },
    list: async () => (await db.all<ApiKeyRow>(sql`SELECT * FROM api_keys ORDER BY created_at, id`)).map(fromRow),
    insert: async (tx, k) => {
      await tx.run(sql`INSERT INTO api_keys (id, name, role, clusters, secret_hash, created_by, created_at, expires_at)
        VALUES (${k.id}, ${k.name}, ${k.role}, ${k.clusters ? JSON.stringify(k.clusters) : null}, ${k.secretHash}, ${k.createdBy}, ${k.createdAt}, ${k.expiresAt ?? null})`);
    },
    revoke: async (tx, id, by, at) => (await tx.run(sql`UPDATE api_keys SET revoked_at = ${at}, revoked_by = ${by} WHERE id = ${id} AND revoked_at IS NULL`)).changes > 0,
    claimIdempotencyKey: async (keyId, idemKey, requestHash, at) => {
      // The primary key makes the first claim win across replicas; a concurrent one waits for it, then reads it.
      const claimed = await db.run(sql`INSERT INTO api_idempotency (key_id, idem_key, request_hash, created_at) VALUES (${keyId}, ${idemKey}, ${requestHash}, ${at}) ON CONFLICT (key_id, idem_key) DO NOTHING`);
      if (claimed.changes > 0) return 'new';
      const row = await db.one<{ request_hash: string }>(sql`SELECT request_hash FROM api_idempotency WHERE key_id = ${keyId} AND idem_key = ${idemKey}`);
      return row?.request_hash === requestHash ? 'same' : 'different';
    },
    prune: async (before) => (await db.run(sql`DELETE FROM api_idempotency WHERE created_at < ${before}`)).changes,
  };
}
