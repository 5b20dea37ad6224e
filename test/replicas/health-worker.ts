/**
 * One replica process for the probe-count test: the app on the given database (storage.url), with its health
 * monitor started on real timers; it says "ready <replica>" and runs until it is killed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';

const [configText, keyDir] = process.argv.slice(2);
const app = await createApp({
  config: parseConfig(configText!, 'replica.yaml', {}),
  dataDir: mkdtempSync(join(tmpdir(), 'infrabot-replica-')),
  keyDir: keyDir!,
  env: {},
  log: createLogger({ level: 'error', destination: pino.destination(2) }),
});
app.health!.start();
process.stdout.write(`ready ${app.health!.replica}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
