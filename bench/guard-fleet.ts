/**
 * Child process of bench/guard.bench.ts: N guards, as services would run them (outside the bot's process),
 * reporting when each saw the kill-switch flip. Wall-clock times (timeOrigin + now) compare across processes.
 */
import { createGuard } from '@infrabot/guard';

const [url, prefix, count] = process.argv.slice(2) as [string, string, string];
const guards = await Promise.all(Array.from({ length: Number(count) }, (_, i) => createGuard({ redis: url, prefix, cluster: 'api', service: `svc-${i}` })));
// One IPC message per flip with every guard's time: sending 50 would delay the guards still to be told.
let batch: number[] = [];
for (const g of guards) {
  g.onChange((s) => {
    batch.push(performance.timeOrigin + performance.now());
    if (batch.length < guards.length) return;
    const ats = batch;
    batch = [];
    process.send!({ on: s.killSwitch.on, ats });
  });
}
process.send!({ ready: true });
process.on('message', async (m: { stop?: boolean }) => {
  if (!m.stop) return;
  await Promise.all(guards.map((g) => g.close()));
  process.exit(0);
});
