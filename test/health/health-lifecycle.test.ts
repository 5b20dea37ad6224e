import { afterEach, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../src/engine/lifecycle-events.js';
import { oneCheckApp } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('health lifecycle events', () => {
  it('announces an alert fired and resolved, and incident changes, once each and only after they committed', async () => {
    const h = await oneCheckApp(cleanups, 'incident: { sev: 2 }');
    const seen: LifecycleEvent[] = [];
    for (const type of ['alert.fired', 'alert.resolved', 'incident.changed'] as const) h.app.lifecycle.on(type, (e) => seen.push(e));
    h.svc.break();
    await h.round(3);
    const [alert] = await h.app.health!.health.alerts({ status: 'firing' });
    const fired = seen.filter((e) => e.type === 'alert.fired');
    expect(fired).toEqual([expect.objectContaining({ alertId: alert!.id, check: 'api-http', cluster: 'api', severity: 'critical' })]);
    // The DOWN check asked for an incident: declared by the system with the alert.
    const [incident] = await h.app.health!.incidents.list({});
    expect(seen.filter((e) => e.type === 'incident.changed')).toEqual([expect.objectContaining({ incidentId: String(incident!.id), status: 'open', actor: 'system' })]);
    expect((await h.app.run(`incident ack ${incident!.id}`)).outcome).toBe('ok');
    await h.app.health!.deliverer.drain();
    expect(seen.filter((e) => e.type === 'incident.changed').map((e) => (e as { status: string }).status)).toEqual(['open', 'acknowledged']);
    h.svc.heal();
    await h.round(2);
    expect(seen.filter((e) => e.type === 'alert.resolved')).toEqual([expect.objectContaining({ alertId: alert!.id })]);
    expect(seen.filter((e) => e.type === 'alert.fired')).toHaveLength(1);
  });
});
