import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startConsoleHealth, withConsoleExtras } from '../../src/cli/start-health.js';
import { createConsoleSink } from '../../src/chat/console/console-sink.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { BASE_CONFIG, cluster } from './health-helpers.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

const capture = () => {
  let text = '';
  return { stream: new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) }), text: () => text };
};

describe('console', () => {
  it('prints alerts as they arrive, updates marked as such, thread replies indented', async () => {
    const out = capture();
    const sink = createConsoleSink({ output: out.stream });
    const reply = { title: '🚨 api: api-http is DOWN', severity: 'critical', visibility: 'channel', outcome: 'ok', traceId: 't', time: 'now', hint: 'alert ack n1' } as const;
    const posted = await sink.post('alerts', reply);
    await sink.update(posted, { ...reply, title: '✅ RESOLVED · api: api-http down' });
    await sink.post('alerts', { ...reply, title: '✅ Resolved: api-http is UP again' }, { threadId: posted.messageId });
    expect(out.text()).toContain('── #alerts · message m1\n🚨 api: api-http is DOWN\nalert ack n1');
    expect(out.text()).toContain('── #alerts · message m1 (updated)\n✅ RESOLVED');
    expect(out.text()).toContain('    ── #alerts · reply in thread of m1\n    ✅ Resolved: api-http is UP again');
  });

  it('breaks and heals the simulated fleet, and writes post-mortems under the data directory', async () => {
    const config = BASE_CONFIG(
      cluster('api', [`      - { name: api-http, type: http, url: "http://127.0.0.1:0/health", interval: 10s }`]),
      'simulation: { enabled: true, services: [{ name: svc-a, kind: http, port: 18971 }, { name: svc-b, kind: tcp, port: 18972 }] }',
    );
    app = await createTestApp({ config });
    const out = capture();
    const running = await startConsoleHealth(app, { output: out.stream, color: false });
    try {
      const pipeline = withConsoleExtras(app.pipeline, { dataDir: app.dir, ...(running.fleet ? { fleet: running.fleet } : {}) });
      const handle = (text: string) => pipeline.handle({ id: text, platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text });
      expect((await fetch('http://127.0.0.1:18971/health')).status).toBe(200);
      expect((await handle('simulate break svc-a')).title).toBe('Simulated svc-a is now broken');
      expect((await fetch('http://127.0.0.1:18971/health')).status).toBe(503);
      await handle('simulate heal svc-a');
      expect((await fetch('http://127.0.0.1:18971/health')).status).toBe(200);
      expect((await handle('simulate break nope')).title).toBe('Unknown service');

      await handle('incident declare "Console test" --sev 3');
      const pm = await handle('incident postmortem 1');
      const path = /Written to (.+INC-1-postmortem\.md)/.exec(pm.text ?? '')?.[1];
      expect(path).toBeDefined();
      expect(path!.startsWith(app.dir)).toBe(true);
      expect(existsSync(path!)).toBe(true);
      expect(readFileSync(path!, 'utf8')).toContain('# Post-mortem: INC-1 Console test');
    } finally {
      await running.stop();
    }
  });
});
