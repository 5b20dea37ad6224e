import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let app: TestApp;
afterEach(async () => app?.cleanup());

const RECORDS = 30_000;

/** A long audit chain, written the way the bot writes it (group-committed batches of audited invocations). */
async function longChain(a: TestApp, n: number): Promise<void> {
  for (let done = 0; done < n; done += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, n - done) }, (_, i) =>
        a.store.commit({
          expectedSeq: 0,
          events: [],
          audit: { at: new Date(Date.UTC(2026, 10, 1) + done + i).toISOString(), platform: 'console', userId: 'local:filler', userName: 'filler', rawText: 'status', command: 'status', outcome: 'ok', traceId: `t${done + i}`, invocationId: `f${done + i}` },
        }),
      ),
    );
  }
}

describe('audit verify off the event loop', () => {
  it('chat commands keep being answered while a verification walks a long chain', async () => {
    app = await createTestApp();
    await longChain(app, RECORDS);
    const order: string[] = [];
    const verifying = app.run('audit verify').then((r) => {
      order.push('verify');
      return r;
    });
    // Commands typed while it runs, one after another (each waits for the previous answer).
    let answered = 0;
    let done = false;
    void verifying.finally(() => {
      done = true;
    });
    while (!done && answered < 50) {
      const status = await app.run('status');
      expect(status.outcome).toBe('ok');
      answered++;
      order.push('status');
    }
    const verify = await verifying;
    expect(verify.outcome).toBe('ok');
    expect(verify.title).toBe('✅ Audit log intact');
    expect((verify.data as { records: number }).records).toBeGreaterThanOrEqual(RECORDS);
    // Several commands were answered before the verification finished: none of them waited behind it.
    expect(order.indexOf('verify')).toBeGreaterThanOrEqual(10);
  }, 120_000);
});
