import { createServer, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startConsoleHealth } from '../../src/cli/start-health.js';
import { startHttpApi } from '../../src/http/start-http-api.js';
import { createTestApp, TEST_CONFIG } from '../helpers/test-app.js';
import { eventually } from '../helpers/redis.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** A port nothing listens on now (the simulated fleet's config needs a fixed one). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', done));
  const { port } = s.address() as AddressInfo;
  await new Promise((done) => s.close(done));
  return port;
}

const config = async () => `${TEST_CONFIG}
http: { host: 127.0.0.1, port: 0 }
simulation:
  enabled: true
  controlPort: 0
  services:
    - { name: api-http, kind: http, port: ${await freePort()}, cluster: api }
`;

describe('infrabot start without Redis: the demo fleet follows the API control stream', () => {
  it('killswitch on makes the simulated services answer 503 through the SSE stream, off brings them back', async () => {
    const app = await createTestApp({ config: await config() });
    cleanups.push(() => app.cleanup());
    const http = await startHttpApi(app, () => undefined);
    cleanups.push(() => http.stop());
    expect(http.stream?.url).toMatch(/\/api\/control\/stream$/);
    const health = await startConsoleHealth(app, { output: new PassThrough(), color: false, stream: http.stream! });
    cleanups.push(() => health.stop());
    const url = `http://127.0.0.1:${health.fleet!.services()[0]!.port}/health`;
    await eventually(async () => (await fetch(url)).status === 200, 3_000, 'the demo service to answer');
    await app.run('killswitch on --reason "demo"', { confirmed: true });
    await eventually(async () => (await fetch(url)).status === 503, 3_000, 'the demo service to refuse');
    await app.run('killswitch off', { confirmed: true });
    await eventually(async () => (await fetch(url)).status === 200, 3_000, 'the demo service to answer again');
  });

  it("the process's own key reads the stream but changes nothing, and is not a stored key", async () => {
    const app = await createTestApp({ config: await config() });
    cleanups.push(() => app.cleanup());
    const http = await startHttpApi(app, () => undefined);
    cleanups.push(() => http.stop());
    const headers = { ...http.stream!.headers, 'content-type': 'application/json' };
    const read = await fetch(`${http.url}/api/control`, { headers });
    expect(read.status).toBe(200);
    const change = await fetch(`${http.url}/api/control/kill-switch/enable`, { method: 'POST', headers, body: JSON.stringify({ reason: 'demo run', confirm: true }) });
    expect(change.status, await change.clone().text()).toBe(403);
    expect((await app.engine.state()).killSwitch.on).toBe(false);
    expect((await app.run('apikey list')).text ?? '').not.toContain('process');
  });
});
