import type Database from 'better-sqlite3';
import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { COMMAND_GROUPS } from '../commands/index.js';
import type { InfrabotConfig } from './config/config-schema.js';
import { createEngine, systemClock, type Clock, type Engine } from './engine/engine.js';
import { createPipeline, type Pipeline } from './framework/pipeline.js';
import { createRegistry } from './framework/registry.js';
import { createSqliteStore, openSqliteDatabase } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export interface App {
  config: InfrabotConfig;
  /** The embedded SQLite database, when the app runs on it (undefined with an injected store). */
  db?: Database.Database;
  store: Store;
  engine: Engine;
  pipeline: Pipeline;
  log: Logger;
  close(): Promise<void>;
}

export interface AppOptions {
  config: InfrabotConfig;
  dataDir: string;
  log: Logger;
  clock?: Clock;
  /** Users who are admins in this process only (the local console/CLI user). */
  localAdmins?: readonly string[];
  /** Use this store instead of opening the configured SQLite file. */
  store?: Store;
}

/** Wires config → store → engine → command pipeline. Adapters take the pipeline and nothing else. */
export async function createApp(opts: AppOptions): Promise<App> {
  const file = isAbsolute(opts.config.storage.file) ? opts.config.storage.file : join(opts.dataDir, opts.config.storage.file);
  // One SQLite handle for the process; every SQLite-backed store of this app shares it.
  const db = opts.store ? undefined : openSqliteDatabase(file);
  const store = opts.store ?? (await createSqliteStore({ db: db! }));
  const engine = createEngine({ store, config: opts.config, clock: opts.clock ?? systemClock });
  const registry = createRegistry(COMMAND_GROUPS);
  const pipeline = createPipeline({ registry, engine, store, log: opts.log, ...(opts.localAdmins ? { localAdmins: opts.localAdmins } : {}) });
  return {
    config: opts.config,
    ...(db ? { db } : {}),
    store,
    engine,
    pipeline,
    log: opts.log,
    close: () => store.close(),
  };
}
