import type { Role } from '../auth/roles.js';
import type { SqlExecutor } from './db/sql-db.js';

/** An API key as stored: never the secret, only its hash. */
export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  /** Clusters the key may act on; undefined: every cluster (and global commands). */
  clusters?: string[];
  secretHash: string;
  createdBy: string;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  revokedBy?: string;
}

export type IdempotencyClaim = 'new' | 'same' | 'different';

/**
 * API keys and HTTP idempotency keys (portable SQL). Writes that belong to a command (create, revoke) take
 * the command's unit of work, so they commit with its audit record.
 */
export interface ApiKeyStore {
  get(id: string): Promise<ApiKey | undefined>;
  list(): Promise<ApiKey[]>;
  insert(tx: SqlExecutor, key: ApiKey): Promise<void>;
  /** Marks a key revoked; false when it was already revoked. */
  revoke(tx: SqlExecutor, id: string, by: string, at: string): Promise<boolean>;
  /**
   * Records the first use of an idempotency key for an API key with the hash of its request: 'new' the first
   * time, then 'same' for the same request and 'different' for another one. Atomic across processes.
   */
  claimIdempotencyKey(keyId: string, idemKey: string, requestHash: string, at: string): Promise<IdempotencyClaim>;
  /** Forgets idempotency keys claimed before `before`. */
  prune(before: string): Promise<number>;
}

declare module '../framework/command-context.js' {
  interface CommandServices {
    apiKeys?: ApiKeyStore;
  }
}
