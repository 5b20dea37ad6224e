import type { Writable } from 'node:stream';
import { createGuard } from '@infrabot/guard';
import type { App } from '../app.js';
import { CONSOLE_KEYS_HINT } from '../chat/console/console-adapter.js';
import type { ConsoleScreen } from '../chat/console/create-console-screen.js';
import { createConsoleSink } from '../chat/console/console-sink.js';
import type { Pipeline } from '../framework/pipeline.js';
import type { Reply } from '../framework/reply.js';
import { writeAttachments } from '../chat/console/write-attachments.js';
import { seedCostHistory } from '../billing/seed-costs.js';
import { startSimulatedFleet, type ServiceMode, type SimulatedFleet } from '../sim/simulated-fleet.js';
import { shortId } from '../util/ids.js';

export interface RunningHealth {
  fleet?: SimulatedFleet;
  stop(): Promise<void>;
}

/**
 * Starts the simulated fleet (if configured), the console alert sink and the health monitor for
 * `start`/`console`, and says at once what will not work as configured: simulated services whose port was
 * taken, and alert routes to platforms this console does not serve (those notifications are not queued).
 */
export async function startConsoleHealth(
  app: App,
  opts: {
    output: Writable;
    color: boolean;
    screen?: ConsoleScreen;
    /** The API's control stream; without Redis the simulated services follow it (else the in-process feed). */
    stream?: { url: string; headers?: Record<string, string> };
    dataDir?: string;
  },
): Promise<RunningHealth> {
  const { url, prefix } = app.config.redis;
  // The simulated services embed the guard like real ones: Redis when configured, else the SSE stream.
  const guardFor = (service: string, cluster: string) =>
    createGuard({
      cluster, service, readyTimeoutMs: 1_000,
      ...(url ? { redis: url, prefix } : { source: opts.stream ? { sse: opts.stream } : { feed: app.control } }),
      onError: (err) => app.log.debug({ err, service }, 'simulated service guard'),
    });
  const fleet = app.config.simulation.enabled ? await startSimulatedFleet(app.config.simulation, app.log.child({ component: 'fleet' }), guardFor) : undefined;
  const notices: string[] = [];
  // The simulated fleet comes with two months of spend, so `costs` has a history to chart and forecast from.
  if (fleet && app.billing) {
    const clusters = Object.entries(app.config.clusters).map(([name, c]) => ({ name, ...(c.team ? { team: c.team } : {}) }));
    await seedCostHistory(app.billing.db, clusters, new Date(), 60, app.config.billing.currency).catch((err: unknown) => app.log.warn({ err }, 'seeding cost history failed'));
  }
  for (const s of fleet?.services() ?? []) {
    if (s.notRunning) notices.push(`Simulated ${s.name} is not running: ${s.notRunning}. Checks of it probe whatever holds that port, and \`simulate\` cannot change it.`);
  }
  if (fleet && app.config.simulation.controlPort > 0 && fleet.controlPort === undefined) {
    notices.push(`The simulated fleet's control endpoint is not running: port ${app.config.simulation.controlPort} is taken. Use \`simulate\` in this console instead.`);
  }
  if (app.health) {
    app.health.deliverer.addSink(createConsoleSink({ output: opts.output, color: opts.color, ...(opts.screen ? { screen: opts.screen } : {}), ...(opts.dataDir ? { attachmentsTo: opts.dataDir } : {}) }));
    for (const { platform, channels } of app.health.unservedRoutes()) {
      notices.push(`Alert routes name ${platform} (${channels.join(', ')}), but no ${platform} adapter runs in this console: those notifications are not queued. To deliver them, set ${platform === 'slack' ? 'SLACK_BOT_TOKEN (see docs/operations.md)' : platform === 'discord' ? 'DISCORD_TOKEN' : `the ${platform} credentials`} and start infrabot again.`);
    }
    app.health.start({ onlyServedPlatforms: true });
    app.schedules?.start();
  }
  for (const n of notices) opts.output.write(`⚠️  ${n}\n`);
  return {
    ...(fleet ? { fleet } : {}),
    stop: async () => {
      await app.schedules?.stop();
      await app.health?.stop();
      await fleet?.stop();
    },
  };
}

const local = (title: string, text: string, severity: Reply['severity'] = 'info', outcome: Reply['outcome'] = 'ok'): Reply => ({
  title, text, severity, visibility: 'ephemeral', outcome, traceId: shortId(), time: new Date().toISOString(),
});

/** What `help` adds in the console: the commands only it has. */
const CONSOLE_HELP_ROWS = [
  ['simulate', 'Console only: `simulate break|heal|slow <service>` steers the simulated fleet.'],
  ['exit', `Console only: leave. ${CONSOLE_KEYS_HINT}`],
];

/**
 * Console-only additions around the pipeline: `simulate break|heal|slow <service>` steers the simulated
 * fleet (never reachable from Slack or Discord), and attachments (post-mortems) are written under the
 * data directory with their path printed.
 */
export function withConsoleExtras(pipeline: Pipeline, opts: { dataDir: string; fleet?: SimulatedFleet }): Pipeline {
  return {
    ...pipeline,
    async handle(inv) {
      const words = inv.text.trim().replace(/^\/?infra\s+/i, '').split(/\s+/);
      if (words[0] === 'simulate') {
        const fleet = opts.fleet;
        if (!fleet) return local('No simulated fleet', 'Enable `simulation` in the config to use `simulate`.', 'warning', 'invalid');
        const [, action, name] = words;
        const mode: ServiceMode | undefined = action === 'break' ? 'broken' : action === 'heal' ? 'healthy' : action === 'slow' ? 'slow' : undefined;
        if (!mode || !name) {
          const list = fleet.services().map((s) => `${s.name} (${s.kind} :${s.port}) ${s.notRunning ? `NOT RUNNING: ${s.notRunning}` : s.mode}`);
          return local('Simulated fleet', list.join('\n') + '\n\nUsage: simulate break|heal|slow <service>');
        }
        try {
          fleet.set(name, mode);
        } catch (err) {
          return local('Unknown service', (err as Error).message, 'warning', 'invalid');
        }
        const service = fleet.services().find((s) => s.name === name);
        if (service?.notRunning) {
          return local(
            `Simulated ${name} is not running here: nothing changed`,
            `${service.notRunning[0]!.toUpperCase()}${service.notRunning.slice(1)}, so this console never started ${name}. Its checks probe whatever answers on port ${service.port}, and no alert will follow this. Stop the other instance and restart this one, or give ${name} another port in \`simulation.services\`.`,
            'warning',
            'failed',
          );
        }
        return local(`Simulated ${name} is now ${mode}`, mode === 'healthy' ? 'Watch the alert resolve (two good probes in a row).' : 'Watch for the alert (after two failed probes, about 20 s).', 'success');
      }
      const consoleTopic = words[0] === 'help' ? CONSOLE_HELP_ROWS.find(([name]) => name === words[1]) : undefined;
      if (consoleTopic && words.length === 2) return local(`help ${consoleTopic[0]}`, consoleTopic[1]!);
      const reply = await pipeline.handle(inv);
      if (words[0] === 'help' && words.length === 1 && reply.table) return { ...reply, table: { ...reply.table, rows: [...reply.table.rows, ...CONSOLE_HELP_ROWS] } };
      return writeAttachments(reply, opts.dataDir);
    },
  };
}
