import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let app: TestApp;
const RECORDS = 30_000;

/** A long audit chain of the last hour, written the way the bot writes it (group-committed audited invocations). */
async function longChain(a: TestApp, n: number): Promise<void> {
  const start = Date.now() - 3_600_000;
  for (let done = 0; done < n; done += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, n - done) }, (_, i) =>
        a.store.commit({
          expectedSeq: 0,
          events: [],
          audit: { at: new Date(start + done + i).toISOString(), platform: 'console', userId: 'local:filler', userName: 'filler', rawText: 'status', command: 'status', outcome: 'ok', traceId: `t${done + i}`, invocationId: `f${done + i}` },
        }),
      ),
    );
  }
}

beforeAll(async () => {
  app = await createTestApp();
  await longChain(app, RECORDS);
}, 120_000);
afterAll(async () => app?.cleanup());

describe('long audit reads off the event loop', () => {
  it.each(['audit verify', 'audit report --since 1d'])('chat commands keep being answered while `%s` reads a long chain', async (long) => {
    const order: string[] = [];
    let done = false;
    const running = app.run(long).finally(() => {
      done = true;
      order.push('long');
    });
    // Commands typed while it runs, one after another (each waits for the previous answer).
    while (!done && order.length < 50) {
      const status = await app.run('status');
      expect(status.outcome).toBe('ok');
      order.push('status');
    }
    const reply = await running;
    expect(reply.outcome).toBe('ok');
    // It read the whole chain: the verification counts every record, the report every record of the period.
    const seen = long === 'audit verify' ? (reply.data as { records: number }).records : Number(/\*\*Records in period:\*\* ([\d,]+)/.exec(reply.attachments?.[0]?.content ?? '')?.[1]?.replaceAll(',', ''));
    expect(seen).toBeGreaterThanOrEqual(RECORDS);
    // Many commands were answered before the long read finished: none of them waited behind it. (With the
    // read on the main thread, at most one or two get through before it.)
    expect(order.indexOf('long')).toBeGreaterThanOrEqual(10);
  }, 120_000);
});
