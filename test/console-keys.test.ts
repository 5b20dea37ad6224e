import { createServer } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runConsole } from '../src/chat/console/console-adapter.js';
import { createConsoleScreen } from '../src/chat/console/create-console-screen.js';
import { startConsoleHealth, withConsoleExtras } from '../src/cli/start-health.js';
import { systemReply } from '../src/engine/alerts/render-notification.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { BASE_CONFIG, cluster, fakeService, httpCheck } from './health/health-helpers.js';

let app: TestApp | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  await app?.cleanup();
  app = undefined;
});

/** A terminal: keys go in as a TTY sends them (Ctrl-C is \x03, Ctrl-D \x04), and everything printed is kept. */
function terminal() {
  const input = new PassThrough();
  let text = '';
  const output = new Writable({ write: (c, _e, cb) => ((text += String(c)), cb()) });
  const plain = () => text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  return {
    input,
    output,
    type: (keys: string) => input.write(keys),
    plain,
    /** Waits until the printed text (escape sequences removed) matches, after `from` characters. */
    async until(pattern: RegExp | string, from = 0): Promise<void> {
      for (let i = 0; i < 1000; i++) {
        const seen = plain().slice(from);
        if (typeof pattern === 'string' ? seen.includes(pattern) : pattern.test(seen)) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`terminal never showed ${String(pattern)}; it shows:\n${plain().slice(from)}`);
    },
  };
}

async function consoleOn(t: ReturnType<typeof terminal>, opts: { confirmLeave?: string; screen?: ReturnType<typeof createConsoleScreen> } = {}) {
  app ??= await createTestApp();
  const done = runConsole({
    pipeline: withConsoleExtras(app.pipeline, { dataDir: app.dir }),
    user: { id: 'local:root-admin', displayName: 'root' },
    input: t.input,
    output: t.output,
    interactive: true,
    ...opts,
  });
  let finished = false;
  void done.then(() => (finished = true));
  await t.until('infra> ');
  return { done, finished: () => finished };
}

// Generous timeouts: the machine may be busy, and each step waits for the terminal to show something.
describe('console keys', { timeout: 30_000 }, () => {
  it('Ctrl-C cancels the typed line and the bot keeps running', async () => {
    const t = terminal();
    const c = await consoleOn(t);
    t.type('cluster disable api --reason "half typed');
    t.type('\x03');
    await t.until('Ctrl-D or "exit" leaves');
    expect(c.finished()).toBe(false);
    t.type('status\r');
    await t.until('All 3 clusters enabled');
    expect((await app!.engine.state()).clusters.api!.enabled).toBe(true);
    t.type('exit\r');
    await c.done;
  });

  it('Ctrl-C at "Proceed? [y/N]" cancels the confirmation, and nothing changes', async () => {
    const t = terminal();
    const c = await consoleOn(t);
    t.type('cluster disable api --reason "testing ctrl-c"\r');
    await t.until('Proceed? [y/N]');
    const mark = t.plain().length;
    t.type('\x03');
    await t.until('Cancelled; nothing changed.', mark);
    await t.until('infra> ', mark);
    t.type('y\r'); // a stray "y" after the cancel is just an unknown command, not a confirmation
    await t.until('Unknown command', mark);
    expect((await app!.engine.state()).clusters.api!.enabled).toBe(true);
    expect(c.finished()).toBe(false);
    t.type('exit\r');
    await c.done;
  });

  it('Ctrl-D or exit asks before leaving when the console is the only adapter; "n" stays', async () => {
    const t = terminal();
    const c = await consoleOn(t, { confirmLeave: 'Leaving stops health checks. Leave? [y/N] ' });
    t.type('\x04');
    await t.until('Leave? [y/N]');
    t.type('n\r');
    await t.until('Staying.');
    await t.until(/Staying\.\n.*infra> /s);
    expect(c.finished()).toBe(false);
    t.type('whoami\r');
    await t.until('You are root');
    t.type('exit\r');
    const mark = t.plain().length;
    await t.until('Leave? [y/N]', mark);
    t.type('y\r');
    await c.done;
  });

  it('prints an alert above the prompt and redraws the prompt with what was typed', async () => {
    const t = terminal();
    const screen = createConsoleScreen(t.output);
    const c = await consoleOn(t, { screen });
    t.type('stat');
    await t.until('infra> stat');
    const mark = t.plain().length;
    const { createConsoleSink } = await import('../src/chat/console/console-sink.js');
    await createConsoleSink({ output: t.output, screen }).post('alerts', systemReply({ title: '🚨 api: api-http is DOWN', severity: 'critical' }, new Date()));
    await t.until(/🚨 api: api-http is DOWN[\s\S]*infra> stat$/, mark);
    t.type('us\r');
    await t.until('infrabot status', mark);
    t.type('exit\r');
    await c.done;
  });

  it('help lists the console-only simulate and exit', async () => {
    app = await createTestApp();
    const pipeline = withConsoleExtras(app.pipeline, { dataDir: app.dir });
    const help = await pipeline.handle({ id: 'h', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text: 'help' });
    expect(help.table!.rows.map((r) => r[0])).toEqual(expect.arrayContaining(['simulate', 'exit']));
    const topic = await pipeline.handle({ id: 'h2', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text: 'help simulate' });
    expect(topic.text).toContain('simulate break|heal|slow <service>');
  });
});

describe('console start-up notices', () => {
  it('says when a simulated service could not start because its port is taken, and simulate says it changes nothing', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as { port: number }).port;
    cleanups.push(() => new Promise<void>((r) => squatter.close(() => r())));
    app = await createTestApp({
      config: BASE_CONFIG(cluster('api', []), `simulation: { enabled: true, controlPort: ${port}, services: [{ name: svc-a, kind: http, port: ${port} }] }`),
    });
    const t = terminal();
    const running = await startConsoleHealth(app, { output: t.output, color: false });
    cleanups.push(() => running.stop());
    expect(t.plain()).toContain(`Simulated svc-a is not running: port ${port} is taken (another infrabot instance, or another program)`);
    expect(t.plain()).toContain(`control endpoint is not running: port ${port} is taken`);
    const pipeline = withConsoleExtras(app.pipeline, { dataDir: app.dir, ...(running.fleet ? { fleet: running.fleet } : {}) });
    const reply = await pipeline.handle({ id: 's', platform: 'console', user: { id: 'local:root-admin', displayName: 'root' }, text: 'simulate break svc-a' });
    expect(reply.title).toBe('Simulated svc-a is not running here: nothing changed');
    expect(reply.outcome).toBe('failed');
    expect(reply.text).toContain('no alert will follow this');
  });

  it('reports alert routes to a platform that is not running, and queues nothing for it', async () => {
    const svc = await fakeService();
    cleanups.push(() => svc.close());
    app = await createTestApp({
      config: BASE_CONFIG(
        cluster('api', [httpCheck('api-http', svc.url)]),
        'alerts: { routes: [{ channels: { slack: C0ALERTS, console: console } }] }',
      ),
    });
    const t = terminal();
    const running = await startConsoleHealth(app, { output: t.output, color: false });
    cleanups.push(() => running.stop());
    expect(t.plain()).toContain('Alert routes name slack (C0ALERTS), but no slack adapter runs in this console: those notifications are not queued');
    // It is already `infrabot start`: say what is missing, not to run what runs.
    expect(t.plain()).toContain('set SLACK_BOT_TOKEN');
    expect(t.plain()).not.toContain('use `infrabot start`');
    svc.break();
    for (let i = 0; i < 3; i++) await app.health!.runCheck('api-http');
    const jobs = app.db!.prepare('SELECT platform FROM outbox').pluck().all();
    expect(jobs).not.toContain('slack');
    expect(jobs).toContain('console');
  });
});
