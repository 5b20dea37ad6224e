import { afterEach, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../src/engine/lifecycle-events.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

let app: TestApp;
afterEach(async () => app?.cleanup());

describe('lifecycle events after the commit', () => {
  it('announces each command once it landed: committed with its audit record and events, then accepted/denied/failed', async () => {
    app = await createTestApp();
    const seen: LifecycleEvent[] = [];
    for (const type of ['command.committed', 'command.accepted', 'command.denied', 'command.failed', 'command.finished'] as const) {
      app.lifecycle.on(type, (e) => {
        seen.push(e);
      });
    }
    const ok = await app.run('cluster disable api --reason "bad deploy" --yes');
    const committed = seen.find((e) => e.type === 'command.committed');
    expect(committed).toMatchObject({ traceId: ok.traceId, audit: { command: 'cluster disable', outcome: 'ok' } });
    // What the subscriber got is what the store holds: the same audit record and the same stored events.
    const [stored] = await app.store.searchAudit({ limit: 1 });
    expect(committed && 'audit' in committed ? committed.audit : undefined).toEqual(stored);
    expect(committed?.type === 'command.committed' && committed.events.map((e) => e.event.type)).toEqual(['cluster.disabled']);
    expect(committed?.type === 'command.committed' && committed.state?.clusters.api?.enabled).toBe(false);
    expect(seen.map((e) => e.type)).toEqual(['command.committed', 'command.accepted', 'command.finished']);

    seen.length = 0;
    await app.run('cluster enable api', { as: 'local:nobody' });
    await app.run('cluster enable nope');
    expect(seen.map((e) => e.type)).toEqual([
      'command.committed', 'command.denied', 'command.finished',
      'command.committed', 'command.failed', 'command.finished',
    ]);
  });

  it('a redelivery emits nothing but finished, and a commit that did not land emits nothing', async () => {
    app = await createTestApp();
    const committed: string[] = [];
    const finished: string[] = [];
    app.lifecycle.on('command.committed', (e) => committed.push(e.audit.command ?? ''));
    app.lifecycle.on('command.finished', (e) => finished.push(e.outcome));
    await app.run('killswitch on --reason drill --yes', { id: 'once' });
    await app.run('killswitch on --reason drill --yes', { id: 'once' });
    expect(committed).toEqual(['killswitch on']);
    expect(finished).toEqual(['ok', 'duplicate']);
  });

  it('a failing subscriber is logged with the trace id and neither breaks the reply nor the other subscribers', async () => {
    app = await createTestApp();
    const after: string[] = [];
    app.lifecycle.on('command.committed', () => {
      throw new Error('metrics exploded');
    });
    app.lifecycle.on('command.committed', (e) => after.push(e.traceId));
    const reply = await app.run('breaker trip api --reason timeouts --yes');
    expect(reply.outcome).toBe('ok');
    expect(reply.title).not.toMatch(/error/i);
    expect(after).toEqual([reply.traceId]);
    const line = app.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'lifecycle subscriber failed; the others still ran');
    expect(line).toMatchObject({ traceId: reply.traceId, lifecycle: 'command.committed', err: { message: 'metrics exploded' } });
    // The control channel (a subscriber too) still got the new version at once, not at its next reconcile.
    expect(app.control.current()?.version).toBe((await app.engine.state()).seq);
  });
});
