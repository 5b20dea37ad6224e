/**
 * A bot process for the kill test: runs one state-changing command and, the moment its commit has landed,
 * stops before answering (prints "committed" and waits to be killed with SIGKILL).
 */
import { pino } from 'pino';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';
import { createSqliteDb } from '../../src/store/db/sqlite-db.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { TEST_CONFIG } from '../helpers/test-app.js';

const [dir, invocationId, text] = process.argv.slice(2) as [string, string, string];
const store = await createSqlStore({ db: createSqliteDb({ file: `${dir}/infrabot.db` }) });
const app = await createApp({
  config: parseConfig(TEST_CONFIG, 'test.yaml', {}),
  dataDir: dir,
  keyDir: `${dir}-keys`,
  env: {},
  log: createLogger({ level: 'error', destination: pino.destination(2) }),
  store: {
    ...store,
    async commit(input) {
      const result = await store.commit(input);
      if (result.ok && result.events.length > 0) {
        process.stdout.write('committed\n');
        await new Promise(() => undefined); // never answers: the parent kills this process here
      }
      return result;
    },
  },
});
await app.pipeline.handle({ id: invocationId, platform: 'console', user: { id: 'local:root-admin', displayName: 'root-admin' }, text, confirmed: true });
process.stdout.write('answered\n');
