import { afterEach, describe, expect, it } from 'vitest';
import { BASE_CONFIG, cluster, fakeService, healthApp, httpCheck } from './health-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('health commands authorize per cluster', () => {
  it('an operator granted only on api can act on api and is still denied on web and globally', async () => {
    const api = await fakeService();
    const web = await fakeService();
    const h = await healthApp(BASE_CONFIG([cluster('api', [httpCheck('api-http', api.url)]), cluster('web', [httpCheck('web-http', web.url)])].join('\n')));
    cleanups.push(async () => {
      await h.app.cleanup();
      await api.close();
      await web.close();
    });
    expect((await h.app.run('role grant local:bob operator --cluster api')).outcome).toBe('ok');
    api.break();
    web.break();
    await h.round(3);
    const firing = await h.app.health!.health.alerts({ status: 'firing' });
    const apiAlert = firing.find((a) => a.cluster === 'api')!;
    const webAlert = firing.find((a) => a.cluster === 'web')!;
    const incWeb = await h.app.run('incident declare "web down" --sev 3 --cluster web');
    expect(incWeb.title).toBe('🔥 INC-1 declared');

    const bob = async (text: string) => (await h.app.run(text, { as: 'local:bob' })).outcome;
    // Allowed on api.
    expect(await bob(`alert ack ${apiAlert.id}`)).toBe('ok');
    expect(await bob(`alert ack ${apiAlert.notificationId}`)).toBe('ok'); // by notification id too
    expect(await bob('silence api --for 1h --reason "known issue"')).toBe('ok');
    expect(await bob('silence api-http --for 1h --reason "flaky probe"')).toBe('ok');
    expect(await bob('health run api-http')).toBe('failed'); // allowed; the probe of the broken service reports its failure
    expect(await bob('health history api-http')).toBe('ok');
    expect(await bob('health api')).toBe('ok');
    expect(await bob('alert list --cluster api')).toBe('ok');
    expect(await bob('silence list --cluster api')).toBe('ok');
    expect(await bob('incident declare "api down" --sev 2 --cluster api')).toBe('ok');
    expect(await bob('incident ack 2')).toBe('ok');
    expect(await bob('incident update 2 "rolling back"')).toBe('ok');
    expect(await bob('incident show 2')).toBe('ok');
    expect(await bob('incident timeline 2')).toBe('ok');
    expect(await bob('incident list --cluster api')).toBe('ok');
    expect(await bob('alert resolve ' + apiAlert.id)).toBe('ok');
    const silences = await h.app.health!.health.silences({ activeAt: h.clock.now().toISOString() });
    expect(await bob(`silence end ${silences.find((s) => s.target === 'api')!.id}`)).toBe('ok'); // by silence id

    // Lists over every cluster show bob the api rows only (web's alert, incident and check are left out).
    const rows = async (text: string) => (await h.app.run(text, { as: 'local:bob' })).table!.rows;
    expect(await rows('alert list')).toEqual([]); // api's was resolved above; web's still fires
    expect((await rows('alert list --resolved')).map((r) => r[1])).toEqual(['api']);
    expect((await rows('incident list')).map((r) => r[3])).toEqual(['api']);
    expect((await rows('health')).map((r) => r[1])).toEqual(['api']);
    expect((await rows('silence list')).map((r) => r[2]).sort()).toEqual(['api-http']); // the api one was ended above

    // Denied on web.
    for (const text of [
      `alert ack ${webAlert.id}`,
      `alert resolve ${webAlert.notificationId}`,
      'silence web --for 1h --reason "not mine"',
      'health run web-http',
      'health history web-http',
      'incident declare "web" --sev 2 --cluster web',
      'incident declare "no cluster" --sev 2',
      'incident ack 1',
      'incident show 1',
      'alert list --cluster web',
    ]) {
      expect(await bob(text), text).toBe('denied');
    }
  });
});
