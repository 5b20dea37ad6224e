/**
 * Numbered schema migrations. SQL here stays portable (no SQLite-only types or functions) so the same
 * list can drive a PostgreSQL store; times are ISO-8601 UTC text, which sorts correctly everywhere.
 */
export interface Migration {
  version: number;
  name: string;
  /** Portable SQL both backends run; or `sqlite` and `postgres` variants where the dialects differ. */
  sql?: string;
  sqlite?: string;
  postgres?: string;
}

/** The script of a migration for a dialect. */
export function migrationSql(m: Migration, dialect: 'sqlite' | 'postgres'): string {
  const text = m[dialect] ?? m.sql;
  if (text === undefined) throw new Error(`migration ${m.version} has no SQL for ${dialect}`);
  return text;
}

const M4 = `
      ALTER TABLE audit ADD COLUMN events_hash TEXT;
      ALTER TABLE audit ADD COLUMN run_by TEXT;

      CREATE TABLE audit_checkpoints (
        seq BIGINT PRIMARY KEY,
        last_id BIGINT NOT NULL,
        statement TEXT NOT NULL,
        hash TEXT NOT NULL,
        key_id TEXT NOT NULL,
        signature TEXT NOT NULL,
        frontier TEXT NOT NULL,
        leaves BLOB
      );
      CREATE INDEX audit_checkpoints_last_id ON audit_checkpoints (last_id);

      CREATE TABLE audit_key_rotations (
        new_key_id TEXT PRIMARY KEY,
        doc TEXT NOT NULL
      );
    `;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'control events, state projection, audit chain, invocations, actions',
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
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
        version TEXT NOT NULL,
        doc TEXT NOT NULL
      );

      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
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
        reply TEXT NOT NULL
      );

      CREATE TABLE actions (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        grp TEXT NOT NULL,
        command TEXT NOT NULL,
        confirmed INTEGER NOT NULL,
        single_use INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        used_at TEXT
      );
      CREATE INDEX actions_grp ON actions (grp);
    `,
  },
  {
    version: 2,
    name: 'health checks, alerts, outbox, silences, incidents',
    sql: `
      CREATE TABLE check_results (
        check_name TEXT NOT NULL,
        at TEXT NOT NULL,
        ok INTEGER NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        error TEXT
      );
      CREATE INDEX check_results_check_at ON check_results (check_name, at);
      CREATE INDEX check_results_at ON check_results (at);

      CREATE TABLE check_rollups (
        check_name TEXT NOT NULL,
        hour TEXT NOT NULL,
        total INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        latency_sum DOUBLE PRECISION NOT NULL,
        latency_p95 DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (check_name, hour)
      );

      CREATE TABLE check_state (
        check_name TEXT PRIMARY KEY,
        doc TEXT NOT NULL
      );

      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        dedup_key TEXT NOT NULL,
        cluster TEXT NOT NULL,
        check_name TEXT NOT NULL,
        status TEXT NOT NULL,
        fired_at TEXT NOT NULL,
        resolved_at TEXT,
        notification_id TEXT,
        doc TEXT NOT NULL
      );
      CREATE INDEX alerts_notification ON alerts (notification_id);
      CREATE INDEX alerts_status_resolved ON alerts (status, resolved_at);
      CREATE UNIQUE INDEX alerts_one_firing_per_key ON alerts (dedup_key) WHERE status = 'firing';
      CREATE INDEX alerts_cluster_fired ON alerts (cluster, fired_at);

      CREATE TABLE alert_events (
        alert_id TEXT NOT NULL,
        at TEXT NOT NULL,
        cluster TEXT NOT NULL,
        type TEXT NOT NULL,
        actor TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE INDEX alert_events_cluster_at ON alert_events (cluster, at);
      CREATE INDEX alert_events_alert ON alert_events (alert_id);
      CREATE INDEX alert_events_at ON alert_events (at);

      CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        cluster TEXT,
        created_at TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX notifications_cluster_created ON notifications (kind, cluster, created_at);

      CREATE TABLE deliveries (
        notification_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        thread_id TEXT,
        PRIMARY KEY (notification_id, platform, channel)
      );

      CREATE TABLE outbox (
        seq BIGINT PRIMARY KEY,
        notification_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        op TEXT NOT NULL,
        body TEXT,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TEXT NOT NULL,
        locked_until TEXT,
        last_error TEXT
      );
      CREATE INDEX outbox_status_next ON outbox (status, next_attempt_at);
      CREATE INDEX outbox_target ON outbox (notification_id, platform, channel, seq);
      CREATE INDEX outbox_created ON outbox (created_at);

      CREATE TABLE silences (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_by TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        ended_at TEXT
      );
      CREATE INDEX silences_ends ON silences (ends_at);
      CREATE INDEX silences_ended ON silences (ended_at);

      CREATE TABLE incidents (
        id BIGINT PRIMARY KEY,
        status TEXT NOT NULL,
        cluster TEXT,
        declared_at TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX incidents_status ON incidents (status);

      CREATE TABLE incident_timeline (
        incident_id BIGINT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        type TEXT NOT NULL,
        text TEXT NOT NULL
      );
      CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at);
    `,
  },
  {
    version: 3,
    name: 'API keys (hashed) and idempotency keys of the HTTP API',
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        clusters TEXT,
        secret_hash TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT,
        revoked_by TEXT
      );
      CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

      CREATE TABLE api_idempotency (
        key_id TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (key_id, idem_key)
      );
      CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
    `,
  },
  {
    version: 4,
    name: 'audit: events hash and run-by per record, signed checkpoints, signing-key rotations',
    sqlite: M4,
    postgres: M4.replace('leaves BLOB', 'leaves BYTEA'),
  },
  {
    version: 8,
    name: 'schedules, their firings (one row per schedule and fire time), time-limited action reverts',
    sql: `
      CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT,
        spec TEXT NOT NULL,
        cron TEXT,
        tz TEXT NOT NULL,
        command TEXT NOT NULL,
        author_id TEXT NOT NULL,
        author_name TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT,
        status TEXT NOT NULL,
        status_reason TEXT,
        created_at TEXT NOT NULL,
        next_fire_at TEXT,
        last_fire_at TEXT,
        last_outcome TEXT,
        guard TEXT,
        version INTEGER NOT NULL
      );
      CREATE INDEX schedules_status_next ON schedules (status, next_fire_at);

      CREATE TABLE schedule_firings (
        schedule_id TEXT NOT NULL,
        fire_at TEXT NOT NULL,
        ran_at TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT,
        PRIMARY KEY (schedule_id, fire_at)
      );
    `,
  },
  {
    version: 18,
    name: 'runbook runs: who ran what with which parameters, steps, outcome and output; one per idempotency key',
    sql: `
      CREATE TABLE runbook_runs (
        id TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        env TEXT NOT NULL,
        runbook TEXT NOT NULL,
        cluster TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL,
        steps TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_name TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT,
        trace_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        forced INTEGER NOT NULL,
        parent_id TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        heartbeat_at TEXT,
        error TEXT,
        output TEXT NOT NULL,
        cancel_requested_by TEXT,
        approved_by TEXT,
        message TEXT,
        version INTEGER NOT NULL
      );
      CREATE INDEX runbook_runs_service ON runbook_runs (service, env, created_at);
      CREATE INDEX runbook_runs_status ON runbook_runs (status);
    `,
  },
];
