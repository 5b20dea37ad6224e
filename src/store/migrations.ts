/**
 * Numbered schema migrations. SQL here stays portable (no SQLite-only types or functions) so the same
 * list can drive a PostgreSQL store; times are ISO-8601 UTC text, which sorts correctly everywhere.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'control events, state projection, audit chain, invocations, actions',
    sql: `
      CREATE TABLE events (
        seq BIGINT PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        scope TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        audit_id BIGINT
      );
      CREATE INDEX events_scope_seq ON events (scope, seq);
      CREATE INDEX events_at ON events (at);

      CREATE TABLE control_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        doc TEXT NOT NULL
      );

      CREATE TABLE audit (
        id BIGINT PRIMARY KEY,
        at TEXT NOT NULL,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        user_name TEXT NOT NULL,
        channel TEXT,
        raw_text TEXT NOT NULL,
        command TEXT,
        args TEXT,
        cluster TEXT,
        outcome TEXT NOT NULL,
        error TEXT,
        trace_id TEXT NOT NULL,
        invocation_id TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_user_at ON audit (user_id, at);
      CREATE INDEX audit_cluster_at ON audit (cluster, at);
      CREATE INDEX audit_command_at ON audit (command, at);
      CREATE INDEX audit_at ON audit (at);

      CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_id BIGINT NOT NULL,
        last_hash TEXT NOT NULL
      );

      CREATE TABLE invocations (
        key TEXT PRIMARY KEY,
        received_at TEXT NOT NULL,
        reply TEXT
      );
      CREATE INDEX invocations_received_at ON invocations (received_at);

      CREATE TABLE actions (
        id TEXT PRIMARY KEY,
        command TEXT NOT NULL,
        confirmed INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];
