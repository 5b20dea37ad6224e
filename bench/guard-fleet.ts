/**
 * Child process of bench/guard.bench.ts: N guards, as services would run them (outside the bot's process),
 * reporting when each saw the kill-switch flip. Wall-clock times (timeOrigin + now) compare across processes.
 */
import { createGuard } from '@infrabot/guard';

const [url, prefix, count] = process.argv.slice(2) as [string, string, string];
const guards = await Promise.all(Array.from({ length: Number(count) }, (_, i) => createGuard({ redis: url, prefix, cluster: 'api', service: `svc-${i}` })));
for (const g of guards) g.onChange((s) => process.send!({ on: s.killSwitch.on, at: performance.timeOrigin + performance.now() }));
process.send!({ ready: true });
process.on('message', async (m: { stop?: boolean }) => {
  if (!m.stop) return;
  await Promise.all(guards.map((g) => g.close()));
  process.exit(0);
});
