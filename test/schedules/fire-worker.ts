/**
 * One bot process for the two-process exactly-once test: opens the app on the given data directory and runs
 * the schedule runner once at each of the given times (a clock moved by hand), then exits.
 */
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/log.js';
import { pino } from 'pino';
import { TEST_CONFIG } from '../helpers/test-app.js';

const [dir, ...times] = process.argv.slice(2);
let now = Date.parse(times[0]!);
const app = await createApp({
  config: parseConfig(TEST_CONFIG, 'test.yaml', {}),
  dataDir: dir!,
  keyDir: `${dir!}-keys`, // two of these start at once: the key is created by whichever comes first
  env: {},
  log: createLogger({ level: 'error', destination: pino.destination(2) }),
  clock: { now: () => new Date(now) },
});
let fired = 0;
for (const t of times) {
  now = Date.parse(t);
  for (let i = 0; i < 3; i++) fired += await app.schedules!.tick();
}
await app.close();
process.stdout.write(String(fired));
